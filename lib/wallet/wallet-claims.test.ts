import { describe, expect, it } from "vitest";
import { issueCredential } from "../claims/credentials";
import { base64urlDecode, generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../claims/es256k";
import { createWalletKey } from "./wallet-key";
import { presentRequiredClaims } from "./wallet-claims";
import { WalletError } from "./wallet-error";

const key = createWalletKey();
const issuer = { iss: "https://attestor.example", privateKeyHex: privateKeyHexOf(generatePrivateJwk()) };
const credential = await issueCredential({
  issuer,
  holderJwk: publicJwkOf(key.privateKey),
  claims: { email: "ada@example.com", age_over_18: true },
});
const request = { requiredClaims: ["age_over_18"], nonce: "abcdefgh12345678", uri: "https://login.example" };

const decodeJson = (part: string) => JSON.parse(new TextDecoder().decode(base64urlDecode(part)!)) as unknown;

describe("presentRequiredClaims", () => {
  it("discloses exactly the requested claims and binds the nonce and audience", async () => {
    const presentation = await presentRequiredClaims({ credential: `  ${credential}\n`, request, key });
    const parts = presentation.split("~");
    const disclosures = parts.slice(1, -1).map((d) => decodeJson(d) as [string, string, unknown]);
    expect(disclosures.map(([, name, value]) => [name, value])).toEqual([["age_over_18", true]]);
    const kbPayload = decodeJson(parts.at(-1)!.split(".")[1]!);
    expect(kbPayload).toMatchObject({ nonce: request.nonce, aud: request.uri });
  });

  it("throws claims_missing, before signing, when the credential lacks a requested claim", async () => {
    const asking = { ...request, requiredClaims: ["age_over_18", "passport"] };
    await expect(presentRequiredClaims({ credential, request: asking, key })).rejects.toMatchObject({
      code: "claims_missing",
      message: expect.stringContaining("passport") as unknown,
    });
  });

  it("throws invalid_credential for text that is not an SD-JWT VC", async () => {
    const failure = presentRequiredClaims({ credential: "hello", request, key });
    await expect(failure).rejects.toBeInstanceOf(WalletError);
    await expect(failure).rejects.toMatchObject({ code: "invalid_credential" });
  });
});
