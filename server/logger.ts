import pino from "pino";

/**
 * Structured logs, one line per event. Secrets never reach them: these exact paths are
 * redacted. Names that only ever hold a secret are redacted one level down (`*.accessToken`);
 * `code` is not one of them, since `err.code` (SQLITE_BUSY, ECONNREFUSED) and the protocol's
 * error codes must reach the logs: the one-time code is redacted where our objects carry it
 * (a login state or status, a redeem body).
 */
export const REDACTED_PATHS: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.browserSecret",
  "*.accessToken",
  "*.refreshToken",
  "*.privateKey",
  "*.token",
  "session.code",
  "status.code",
  "state.code",
  "body.code",
  "req.body.code",
  "redeem.code",
];

export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
    },
    destination,
  );
}

export type Logger = ReturnType<typeof createLogger>;
