import { describe, expect, it } from "vitest";
import { decideChannelAccess } from "./policy";

const alice = { userId: "calice", address: "0x0000000000000000000000000000000000000A11" };

describe("decideChannelAccess", () => {
  it("gives private-user-<id> to that user only", () => {
    expect(decideChannelAccess(alice, "private-user-calice")).toEqual({ ok: true });
    expect(decideChannelAccess(alice, "private-user-cbob")).toEqual({ ok: false, code: "forbidden" });
    expect(decideChannelAccess(alice, "private-user-calice2")).toEqual({ ok: false, code: "forbidden" });
    expect(decideChannelAccess(alice, "private-user-")).toEqual({ ok: false, code: "forbidden" });
  });

  it("gives every private-* and presence-* to any signed-in user, presence with the user object", () => {
    expect(decideChannelAccess(alice, "private-team")).toEqual({ ok: true });
    expect(decideChannelAccess(alice, "presence-room")).toEqual({
      ok: true,
      presence: { user_id: "calice", user_info: { address: alice.address } },
    });
  });

  it("gives no signed-in user a wallet's channel (the attestor signs those for a key proof)", () => {
    expect(decideChannelAccess(alice, "private-wallet-abc")).toEqual({ ok: false, code: "forbidden" });
  });

  it("signs public channels too (they need no auth, so it is harmless)", () => {
    expect(decideChannelAccess(alice, "news")).toEqual({ ok: true });
  });

  it("serialises the presence member with user_id first, as Pusher's SDKs do", () => {
    const access = decideChannelAccess(alice, "presence-room");
    expect(access.ok && JSON.stringify(access.presence)).toBe(
      `{"user_id":"calice","user_info":{"address":"${alice.address}"}}`,
    );
  });
});
