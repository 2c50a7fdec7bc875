import { WalletError } from "../../lib/wallet/index";

export interface DescribedError {
  code: string;
  title: string;
  text: string;
}

const REFUSED = "Login refused";

/** Each code of docs/protocol.md and lib/wallet in words a person can act on. */
const WORDS: Record<string, { title: string; text: string }> = {
  invalid_qr: {
    title: "Not a login code",
    text: "That is not the text of a login QR code. Copy the link under the QR code on the sign-in page.",
  },
  invalid_key: { title: "Not a private key", text: "A private key is 64 hexadecimal characters, 0x optional." },
  invalid_credential: {
    title: "Not a credential",
    text: "The pasted text is not an SD-JWT VC credential. Nothing was signed.",
  },
  invalid_response: { title: "Unreadable request", text: "The site sent a login request this wallet cannot read." },
  domain_mismatch: {
    title: "Possible phishing",
    text: "The request claims to be for another site than the one the QR code comes from. Nothing was signed.",
  },
  network_error: { title: "Site unreachable", text: "The site could not be reached. Check the connection and retry." },
  http_error: { title: "Unexpected answer", text: "The site answered with an unexpected error." },
  session_not_found: {
    title: "Unknown login",
    text: "This login request does not exist. Get a fresh QR code from the sign-in page.",
  },
  session_expired: {
    title: "QR code expired",
    text: "This QR code has expired. Get a fresh one from the sign-in page.",
  },
  session_closed: {
    title: "Login already finished",
    text: "This login was already approved, denied or cancelled. Get a fresh QR code from the sign-in page.",
  },
  wrong_match_code: {
    title: "Wrong match code",
    text: "The code did not match the one on the sign-in page, so the login was refused. Start again with a new QR code.",
  },
  invalid_signature: { title: REFUSED, text: "The site could not verify the wallet's signature." },
  nonce_mismatch: { title: REFUSED, text: "The signed message did not carry this login's one-time challenge." },
  field_mismatch: { title: REFUSED, text: "The signed message did not match the login request." },
  claims_missing: {
    title: "Claims required",
    text: "The site asks for verified claims that the credential does not hold (or none was presented).",
  },
  claims_invalid: { title: REFUSED, text: "The site did not accept the presented claims." },
  invalid_request: { title: REFUSED, text: "The site could not read the wallet's answer." },
  payload_too_large: { title: REFUSED, text: "The wallet's answer was too large." },
  rate_limited: { title: "Too many attempts", text: "The site asks to slow down. Wait a minute and try again." },
  origin_not_allowed: { title: REFUSED, text: "The site does not accept requests from here." },
  invalid_match_code: { title: "Not a number", text: "Type the two digits the sign-in page shows. Nothing was sent." },
  device_not_found: {
    title: "Not paired",
    text: "This wallet is not paired with the site (or was unpaired from the dashboard). Pair it again.",
  },
  challenge_not_found: { title: "Challenge expired", text: "The site's challenge expired or was used. Try again." },
  too_many_devices: {
    title: "Too many devices",
    text: "This account has 10 paired devices. Unpair one on the dashboard first.",
  },
  device_not_authenticated: { title: "Not connected", text: "The device connection is not ready yet. Try again." },
  internal_error: { title: "Server error", text: "Something went wrong on the site's server. Try again later." },
};

export function describeError(error: unknown): DescribedError {
  const code = error instanceof WalletError ? error.code : "unexpected";
  const words = Object.hasOwn(WORDS, code) ? WORDS[code] : undefined;
  if (words) return { code, ...words };
  return {
    code,
    title: "Something went wrong",
    text: error instanceof Error && error.message ? error.message : "The wallet could not finish this login.",
  };
}
