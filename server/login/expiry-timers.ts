/**
 * Pushes expiry to the browser when a session's time runs out. The timers only
 * prompt a re-read: the state itself is decided by the store, and every access
 * checks expiry again, so a lost timer (a stopped node) loses nothing.
 */
export function createExpiryTimers(onDue: (sessionId: string) => void) {
  const timers = new Map<string, NodeJS.Timeout>();
  return {
    schedule(sessionId: string, at: number) {
      clearTimeout(timers.get(sessionId));
      const timer = setTimeout(
        () => {
          timers.delete(sessionId);
          onDue(sessionId);
        },
        Math.max(0, at - Date.now()) + 5,
      );
      timer.unref();
      timers.set(sessionId, timer);
    },
    /** A session that ended has nothing left to push: its timer (and Map entry) go at once. */
    cancel(sessionId: string) {
      clearTimeout(timers.get(sessionId));
      timers.delete(sessionId);
    },
    get size() {
      return timers.size;
    },
    close() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}

export type ExpiryTimers = ReturnType<typeof createExpiryTimers>;
