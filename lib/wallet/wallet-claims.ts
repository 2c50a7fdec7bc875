/**
 * The wallet's side of verifiable claims (docs/protocol.md section 4): from a credential it holds
 * (an SD-JWT VC issued to its key), the presentation a login request asks for.
 *
 * Checked before anything is signed, because a refused answer ends the login: the credential
 * must parse and hold every claim the request lists. Exactly those claims are disclosed.
 */
import { credentialClaimNames, presentCredential } from "../claims/credentials";
import type { LoginRequest } from "../protocol/login";
import { WalletError } from "./wallet-error";
import type { WalletKey } from "./wallet-key";

export interface PresentClaimsInput {
  /** The SD-JWT VC, `<jwt>~<disclosure>~...~`. */
  credential: string;
  request: Pick<LoginRequest, "requiredClaims" | "nonce" | "uri">;
  key: WalletKey;
}

/** The `presentation` for `POST /api/auth`; throws `invalid_credential` or `claims_missing` (nothing signed). */
export async function presentRequiredClaims(input: PresentClaimsInput): Promise<string> {
  const credential = input.credential.trim();
  let available: string[];
  try {
    available = await credentialClaimNames(credential);
  } catch (cause) {
    throw new WalletError("invalid_credential", "That is not an SD-JWT VC credential.", undefined, { cause });
  }
  const missing = input.request.requiredClaims.filter((name) => !available.includes(name));
  if (missing.length > 0) {
    throw new WalletError(
      "claims_missing",
      `The credential holds no ${missing.join(", ")}, which the site asks for. Nothing was signed.`,
    );
  }
  return presentCredential({
    credential,
    disclose: input.request.requiredClaims,
    nonce: input.request.nonce,
    aud: input.request.uri,
    privateKeyHex: input.key.privateKey,
  });
}
