/**
 * The address of this browser's last sign-in, for push mode's "Continue as 0x12…cdef". An
 * address is public (no secret: the phone still has to approve), and nothing else is kept.
 * Storage may be unavailable (private modes, blocked cookies); then nothing is remembered.
 */
const KEY = "qrl:last-address";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function rememberAddress(address: string): void {
  try {
    localStorage.setItem(KEY, address);
  } catch {
    // Not remembered: the person types it next time.
  }
}

export function readRememberedAddress(): string | undefined {
  try {
    const address = localStorage.getItem(KEY);
    return address !== null && ADDRESS.test(address) ? address : undefined;
  } catch {
    return undefined;
  }
}

export function forgetAddress(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing to forget.
  }
}
