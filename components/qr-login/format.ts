/** `mm:ss`, rounded up so the display reaches 00:00 only when the time is really up. */
export function formatCountdown(remainingMs: number): string {
  const seconds = Math.max(0, Math.ceil(remainingMs / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
}

/** Fills a deep-link template such as `examplewallet://login?request={qr}` with the URL-encoded QR text. */
export function buildWalletLink(template: string, qr: string): string {
  return template.split("{qr}").join(encodeURIComponent(qr));
}
