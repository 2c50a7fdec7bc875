import { describe, expect, it } from "vitest";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { issueCredential, presentCredential, sdJwtHasher } from "../../lib/claims/credentials";
import {
  addressOfJwk,
  base64urlDecode,
  base64urlEncode,
  generatePrivateJwk,
  privateKeyHexOf,
  publicJwkOf,
  signEs256k,
} from "../../lib/claims/es256k";
import { createWalletKey } from "../../lib/wallet";
import { createPresentationVerifier } from "./verify-presentation";

const ISS = "https://attestor.example";
const NONCE = "n0nceValue123456";
const AUD = "https://login.example";
const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

const attestorJwk = generatePrivateJwk();
const { d: _d, ...attestorPublicJwk } = attestorJwk;
const attestor = { iss: ISS, privateKeyHex: privateKeyHexOf(attestorJwk) };
const verifier = createPresentationVerifier(new Map([[ISS, attestorPublicJwk]]));
const wallet = createWalletKey();
const walletJwk = publicJwkOf(wallet.privateKey);
const claims = { email: "ada@example.com", age_over_18: true, country: "NL" };

async function credentialFor(overrides: Partial<Parameters<typeof issueCredential>[0]> = {}) {
  return issueCredential({ issuer: attestor, holderJwk: walletJwk, claims, issuedAt: nowSeconds - 60, ...overrides });
}

async function present(credential: string, overrides: Partial<Parameters<typeof presentCredential>[0]> = {}) {
  return presentCredential({
    credential,
    disclose: ["email", "age_over_18"],
    nonce: NONCE,
    aud: AUD,
    privateKeyHex: wallet.privateKey,
    issuedAt: nowSeconds,
    ...overrides,
  });
}

function check(presentation: string, overrides: Partial<Parameters<typeof verifier.verify>[0]> = {}) {
  return verifier.verify({
    presentation,
    nonce: NONCE,
    aud: AUD,
    holderAddress: wallet.address,
    requiredClaims: ["email"],
    now: NOW,
    ...overrides,
  });
}

/** Re-signs an issuer JWT with the attestor's key after `edit` changed its header or payload. */
function reissue(
  presentation: string,
  edit: (header: Record<string, unknown>, payload: Record<string, unknown>) => void,
) {
  const [jwt, ...rest] = presentation.split("~");
  const [h, p] = jwt!.split(".");
  const decode = (part: string) =>
    JSON.parse(new TextDecoder().decode(base64urlDecode(part)!)) as Record<string, unknown>;
  const header = decode(h!);
  const payload = decode(p!);
  edit(header, payload);
  const encode = (value: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${encode(header)}.${encode(payload)}`;
  return [`${input}.${signEs256k(attestor.privateKeyHex, input)}`, ...rest].join("~");
}

describe("addressOfJwk", () => {
  it("gives the wallet's own address for its public key", () => {
    expect(addressOfJwk(walletJwk)).toBe(wallet.address);
  });

  it("refuses keys that are not secp256k1 points", () => {
    expect(addressOfJwk({ ...walletJwk, crv: "P-256" })).toBeNull();
    expect(addressOfJwk({ ...walletJwk, y: walletJwk.x })).toBeNull();
    expect(addressOfJwk({ ...walletJwk, x: "short" })).toBeNull();
    expect(addressOfJwk(null)).toBeNull();
  });
});

describe("presentation verifier", () => {
  it("accepts a valid presentation and returns exactly the disclosed claims", async () => {
    const result = await check(await present(await credentialFor()));
    expect(result).toEqual({ ok: true, claims: { email: "ada@example.com", age_over_18: true } });
  });

  it("accepts a holder address in any case", async () => {
    const result = await check(await present(await credentialFor()), { holderAddress: wallet.address.toLowerCase() });
    expect(result.ok).toBe(true);
  });

  it("never lets a claim named __proto__ change the prototype of the claims it returns", async () => {
    const credential = await credentialFor({
      claims: JSON.parse('{"__proto__": {"isAdmin": true}, "email": "a@b.c"}'),
    });
    const result = await check(await present(credential, { disclose: ["__proto__", "email"] }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.claims)).toBe(Object.prototype);
    expect(result.claims.email).toBe("a@b.c");
    expect((result.claims as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });

  it("answers claims_missing when a required claim is not disclosed", async () => {
    const presentation = await present(await credentialFor(), { disclose: ["age_over_18"] });
    expect(await check(presentation)).toMatchObject({ ok: false, code: "claims_missing" });
  });

  it("answers claims_missing when the credential does not hold a required claim", async () => {
    const presentation = await present(await credentialFor());
    expect(await check(presentation, { requiredClaims: ["email", "passport"] })).toMatchObject({
      ok: false,
      code: "claims_missing",
    });
  });

  const refusals: Array<[string, () => Promise<string>, Partial<Parameters<typeof verifier.verify>[0]>?]> = [
    ["text that is not an SD-JWT", async () => "not-an-sd-jwt~"],
    [
      "an issuer that is not trusted",
      async () => present(await credentialFor({ issuer: { ...attestor, iss: "https://other.example" } })),
    ],
    [
      "a credential signed by another key under the trusted name",
      async () =>
        present(await credentialFor({ issuer: { iss: ISS, privateKeyHex: privateKeyHexOf(generatePrivateJwk()) } })),
    ],
    [
      "a credential issued to another wallet",
      async () => {
        const other = createWalletKey();
        const credential = await credentialFor({ holderJwk: publicJwkOf(other.privateKey) });
        return present(credential, { privateKeyHex: other.privateKey });
      },
    ],
    [
      "a key-binding JWT signed by another key than cnf",
      async () => present(await credentialFor(), { privateKeyHex: createWalletKey().privateKey }),
    ],
    ["a key-binding JWT for another nonce", async () => present(await credentialFor(), { nonce: "otherNonce123456" })],
    [
      "a key-binding JWT for another audience",
      async () => present(await credentialFor(), { aud: "https://evil.example" }),
    ],
    ["a stale key-binding JWT", async () => present(await credentialFor(), { issuedAt: nowSeconds - 3600 })],
    ["a key-binding JWT from the future", async () => present(await credentialFor(), { issuedAt: nowSeconds + 600 })],
    [
      "an expired credential",
      async () => present(await credentialFor({ issuedAt: nowSeconds - 7200, expiresInSeconds: 3600 })),
    ],
    ["a credential not valid yet", async () => present(await credentialFor({ issuedAt: nowSeconds + 3600 }))],
    [
      "a presentation without a key-binding JWT",
      async () => {
        const credential = await credentialFor();
        const sdjwt = new SDJwtVcInstance({ hasher: sdJwtHasher });
        return sdjwt.present(credential, { email: true } as never);
      },
    ],
    [
      "a tampered disclosure",
      async () => {
        const parts = (await present(await credentialFor())).split("~");
        const disclosure = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1]!)!)) as unknown[];
        disclosure[2] = disclosure[1] === "email" ? "mallory@example.com" : false;
        parts[1] = base64urlEncode(new TextEncoder().encode(JSON.stringify(disclosure)));
        return parts.join("~");
      },
    ],
    [
      "an issuer JWT with alg none",
      async () => {
        const presentation = await present(await credentialFor());
        const [jwt, ...rest] = presentation.split("~");
        const [, payload] = jwt!.split(".");
        const header = base64urlEncode(new TextEncoder().encode(JSON.stringify({ alg: "none", typ: "dc+sd-jwt" })));
        return [`${header}.${payload}.`, ...rest].join("~");
      },
    ],
    [
      "an issuer JWT of another type",
      async () =>
        reissue(await present(await credentialFor()), (header) => {
          header.typ = "JWT";
        }),
    ],
    [
      "a credential with a status-list reference",
      async () =>
        reissue(await present(await credentialFor()), (_header, payload) => {
          payload.status = { status_list: { idx: 0, uri: "http://127.0.0.1:1/status" } };
        }),
    ],
    [
      "a signer address that is not the holder",
      async () => present(await credentialFor()),
      { holderAddress: createWalletKey().address },
    ],
  ];

  it.each(refusals)("answers claims_invalid for %s", async (_name, make, overrides) => {
    const result = await check(await make(), overrides ?? {});
    expect(result).toMatchObject({ ok: false, code: "claims_invalid" });
  });

  it("refuses a key-binding JWT whose sd_hash covers other disclosures (one added after signing)", async () => {
    const credential = await credentialFor();
    const presentation = await present(credential, { disclose: ["email"] });
    // Slip the undisclosed `country` disclosure in before the key-binding JWT.
    const country = credential
      .split("~")
      .slice(1, -1)
      .find((d) => new TextDecoder().decode(base64urlDecode(d)!).includes("country"))!;
    const parts = presentation.split("~");
    const tampered = [...parts.slice(0, -1), country, parts.at(-1)].join("~");
    expect(await check(tampered)).toMatchObject({ ok: false, code: "claims_invalid" });
  });
});
