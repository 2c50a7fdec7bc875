/** A clock that stands still until a test moves it: lease and expiry tests without sleeps. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function createManualClock(start = Date.now()): ManualClock {
  let at = start;
  return {
    now: () => at,
    advance(ms) {
      at += ms;
    },
  };
}
