// Worded for the person at the desktop, who did not see what happened on the phone.
const REASONS: Record<string, string> = {
  user_denied: "The sign-in was declined in the wallet.",
  wrong_match_code: "The wrong number was chosen on the phone.",
  nonce_mismatch: "The wallet signed an outdated login request.",
  domain_mismatch: "The wallet signed a request for another site.",
  field_mismatch: "The signed message does not match this login.",
  invalid_signature: "The wallet's signature could not be verified.",
  claims_missing: "The wallet did not share the details this site needs.",
  claims_invalid: "The details the wallet shared could not be verified.",
};

// Codes the login client makes up itself, whose own text is meant for developers;
// for server codes the server's text (lib/protocol/errors.ts) is already human.
const ERRORS: Record<string, string> = {
  timeout: "The login server did not answer in time.",
  network_error: "Could not reach the login server.",
};

function lookUp(table: Record<string, string>, code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(table, code) ? table[code] : undefined;
}

/** The human sentence for a `denied` event's `reason` (docs/protocol.md codes, or `user_denied`). */
export function describeReason(code: string | undefined): string {
  return lookUp(REASONS, code) ?? "The sign-in was refused.";
}

/** The human sentence for an error code; `fallback` (e.g. the server's own text) for codes it does not know. */
export function describeError(code: string, fallback?: string): string {
  return lookUp(ERRORS, code) ?? fallback ?? "Something went wrong.";
}
