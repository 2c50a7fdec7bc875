// GET /api/nonce: a fresh SIWE nonce, remembered for five minutes (the guides keep it in the
// session; this peer keeps it in the process, which is cheaper than a sealed cookie).
import { generateNonce } from "siwe";

export const dynamic = "force-dynamic";

const NONCE_TTL_MS = 5 * 60_000;

export function GET() {
  const peer = globalThis.siwePeer;
  const nonce = generateNonce();
  peer.nonces.set(nonce, Date.now() + NONCE_TTL_MS);
  return Response.json({ nonce });
}
