/**
 * What a wallet tells the person when a push ended other than by its own answer (`push:closed`,
 * docs/protocol.md section 5.3); shared by the simulator and `wallet listen`.
 */
const CLOSED_TEXT = new Map<string, string>([
  ["cancelled", "The sign-in page cancelled this request."],
  ["expired", "The request expired before an answer."],
  ["suspended", "A newer sign-in request replaced this one."],
  ["denied", "The request was denied."],
  ["redeemed", "The sign-in completed."],
]);

/** One sentence for a `push:closed`; a reason the server may add later falls back to its state. */
export function describePushClosed(event: { state: string; reason?: string }): string {
  // Redis came back empty: the server no longer knows the request, and the page was told to start again.
  if (event.reason === "store_reset") {
    return "The server lost this request (its store restarted): start the sign-in again on the page.";
  }
  return CLOSED_TEXT.get(event.state) ?? `The request ended (${event.state}).`;
}
