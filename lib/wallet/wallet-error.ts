/**
 * What the wallet throws. `code` is a docs/protocol.md error code when the server sent
 * one, else a local one: `invalid_qr`, `invalid_key`, `invalid_response`,
 * `domain_mismatch` (the request claims another site than the QR points to),
 * `network_error`, `http_error` (an error status without a protocol body),
 * `invalid_credential` (a verifiable credential that does not parse; `claims_missing` is
 * also thrown locally when the wallet's credential lacks a claim the request asks for),
 * `invalid_match_code` (a typed number, push or QR `type` mode, that is not two digits; nothing was sent),
 * `closed` (the device connection was closed before it authenticated).
 * `status` is the HTTP status when there was a response.
 */
export class WalletError extends Error {
  override readonly name = "WalletError";
  /** The server's Retry-After (seconds), when it sent one (429, 503). */
  retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
