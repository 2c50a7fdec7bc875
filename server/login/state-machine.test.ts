/**
 * The login state machine against docs/protocol.md section 1, written out here independently of
 * the implementation: every one of the 64 (from, to) pairs is checked, so a transition added
 * or dropped by accident fails a named case.
 */
import { describe, expect, it } from "vitest";
import { ENDED_STATES, LOGIN_STATES, OPEN_STATES } from "../../lib/protocol/login";
import type { LoginState } from "../../lib/protocol/login";
import { canTransition, isEndedState, isOpenState, statesLeadingTo } from "./state-machine";

/** The allowed transitions: pending -> scanned -> approved -> redeemed, and the ends. */
const ALLOWED: Record<LoginState, readonly LoginState[]> = {
  pending: ["scanned", "fetched", "approved", "denied", "cancelled", "expired", "suspended"],
  scanned: ["approved", "denied", "cancelled", "expired", "suspended"],
  fetched: ["approved", "denied", "cancelled", "expired", "suspended"],
  approved: ["redeemed", "expired"],
  redeemed: [],
  denied: [],
  cancelled: [],
  expired: [],
  suspended: [],
};

const ENDS: readonly LoginState[] = ["redeemed", "denied", "cancelled", "expired", "suspended"];
const OPEN: readonly LoginState[] = ["pending", "scanned", "fetched"];

const pairs = LOGIN_STATES.flatMap((from) =>
  LOGIN_STATES.map((to) => ({ from, to, allowed: ALLOWED[from].includes(to) })),
);

describe("canTransition", () => {
  it("covers all 9 x 9 state pairs", () => {
    expect(LOGIN_STATES).toHaveLength(9);
    expect(pairs).toHaveLength(81);
    expect(pairs.filter((p) => p.allowed)).toHaveLength(19);
  });

  it.each(pairs.filter((p) => p.allowed))("allows $from -> $to", ({ from, to }) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(pairs.filter((p) => !p.allowed))("refuses $from -> $to", ({ from, to }) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it("never moves a state to itself", () => {
    for (const state of LOGIN_STATES) expect(canTransition(state, state)).toBe(false);
  });

  it.each(ENDS.map((from) => ({ from })))("never leaves the end state $from", ({ from }) => {
    for (const to of LOGIN_STATES) expect(canTransition(from, to)).toBe(false);
  });

  it("never goes back towards pending", () => {
    const order: LoginState[] = ["pending", "scanned", "approved", "redeemed"];
    for (const [i, from] of order.entries()) {
      for (const to of order.slice(0, i)) expect(canTransition(from, to)).toBe(false);
    }
  });

  it("reaches every state from pending, and an end from every state that is not one", () => {
    const reachable = new Set<LoginState>(["pending"]);
    for (let grew = true; grew;) {
      grew = false;
      for (const { from, to } of pairs) {
        if (reachable.has(from) && !reachable.has(to) && canTransition(from, to)) {
          reachable.add(to);
          grew = true;
        }
      }
    }
    expect([...reachable].sort()).toEqual([...LOGIN_STATES].sort());
    for (const from of LOGIN_STATES.filter((s) => !ENDS.includes(s))) {
      expect(ENDS.some((end) => canTransition(from, end))).toBe(true);
    }
  });
});

describe("statesLeadingTo", () => {
  it.each(LOGIN_STATES.map((to) => ({ to })))("lists exactly the states that may move to $to", ({ to }) => {
    const expected = LOGIN_STATES.filter((from) => ALLOWED[from].includes(to));
    expect([...statesLeadingTo(to)].sort()).toEqual([...expected].sort());
  });

  it("narrows to the given states", () => {
    expect(statesLeadingTo("denied", ["pending", "scanned"]).sort()).toEqual(["pending", "scanned"]);
    expect(statesLeadingTo("denied", ["scanned", "approved", "denied"])).toEqual(["scanned"]);
    expect(statesLeadingTo("approved", ["pending", "scanned"]).sort()).toEqual(["pending", "scanned"]);
    expect(statesLeadingTo("redeemed", ["pending", "scanned"])).toEqual([]);
    expect(statesLeadingTo("expired", ["approved", "redeemed"])).toEqual(["approved"]);
    expect(statesLeadingTo("pending")).toEqual([]);
    expect(statesLeadingTo("scanned", [])).toEqual([]);
  });
});

describe("isOpenState / isEndedState", () => {
  it.each(LOGIN_STATES.map((state) => ({ state })))("classifies $state", ({ state }) => {
    expect(isOpenState(state)).toBe(OPEN.includes(state));
    expect(isEndedState(state)).toBe(ENDS.includes(state));
  });

  it("approved is neither open nor ended", () => {
    expect(isOpenState("approved")).toBe(false);
    expect(isEndedState("approved")).toBe(false);
  });

  it("agrees with the shared lists in lib/protocol", () => {
    expect([...OPEN_STATES].sort()).toEqual([...OPEN].sort());
    expect([...ENDED_STATES].sort()).toEqual([...ENDS].sort());
    for (const state of LOGIN_STATES) {
      expect(isOpenState(state)).toBe(OPEN_STATES.includes(state));
      expect(isEndedState(state)).toBe(ENDED_STATES.includes(state));
    }
  });
});
