// POST /api/verify: the guides' login. `siwe` parses and verifies the message (nonce, domain,
// times, the signature through ethers), Prisma upserts the user, `jose` signs a session token
// that goes back in the body and in an HttpOnly cookie.
import { SiweMessage } from "siwe";
import { SignJWT } from "jose";

export const dynamic = "force-dynamic";

export async function POST(request) {
  const peer = globalThis.siwePeer;
  let body;
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: { code: "invalid_request" } }, { status: 400 });
  }
  let fields;
  try {
    const message = new SiweMessage(body.message);
    const expiresAt = peer.nonces.get(message.nonce);
    if (!expiresAt || expiresAt < Date.now())
      return Response.json({ error: { code: "invalid_nonce" } }, { status: 422 });
    peer.nonces.delete(message.nonce);
    ({ data: fields } = await message.verify({ signature: body.signature, domain: peer.domain, nonce: message.nonce }));
  } catch {
    return Response.json({ error: { code: "invalid_signature" } }, { status: 401 });
  }
  const now = new Date();
  const user = await peer.prisma.user.upsert({
    where: { address: fields.address },
    create: { address: fields.address, claims: {}, createdAt: now, lastLoginAt: now },
    update: { lastLoginAt: now },
  });
  const token = await new SignJWT({ address: user.address })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime("15m")
    .sign(peer.secret);
  return new Response(JSON.stringify({ token, user: { id: user.id, address: user.address } }), {
    headers: {
      "content-type": "application/json",
      "set-cookie": `session=${token}; HttpOnly; Path=/; SameSite=Lax`,
    },
  });
}
