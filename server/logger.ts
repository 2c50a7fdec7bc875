import pino from "pino";

/** Structured logs, one line per event. Secrets never reach them: these paths are redacted. */
export function createLogger(level: string) {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        "*.browserSecret",
        "*.code",
        "*.accessToken",
        "*.refreshToken",
        "*.privateKey",
        "*.token",
      ],
      censor: "[redacted]",
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
