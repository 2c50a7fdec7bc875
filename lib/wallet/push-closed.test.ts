import { describe, expect, it } from "vitest";
import { describePushClosed } from "./push-closed";

describe("describePushClosed", () => {
  it("says the server lost a request after a store reset, whatever its state", () => {
    expect(describePushClosed({ state: "expired", reason: "store_reset" })).toBe(
      "The server lost this request (its store restarted): start the sign-in again on the page.",
    );
  });

  it("names each end by its state, and an unknown one as it is", () => {
    expect(describePushClosed({ state: "expired", reason: "session_expired" })).toBe(
      "The request expired before an answer.",
    );
    expect(describePushClosed({ state: "suspended", reason: "superseded" })).toBe(
      "A newer sign-in request replaced this one.",
    );
    expect(describePushClosed({ state: "cancelled" })).toBe("The sign-in page cancelled this request.");
    expect(describePushClosed({ state: "paused" })).toBe("The request ended (paused).");
  });
});
