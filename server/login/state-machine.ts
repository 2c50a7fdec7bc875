import type { LoginState } from "../../lib/protocol/login";

/**
 * The login session state machine (docs/protocol.md section 1). `pending` -> `scanned` ->
 * `approved` -> `redeemed`; `denied`, `cancelled`, `expired` and `suspended` are ends.
 * No state is ever left once ended. Stores apply transitions as compare-and-set on the
 * states listed here, so two nodes can never both win one.
 */
const NEXT_STATES: Record<LoginState, readonly LoginState[]> = {
  pending: ["scanned", "fetched", "approved", "denied", "cancelled", "expired", "suspended"],
  scanned: ["approved", "denied", "cancelled", "expired", "suspended"],
  // Push login (section 5): the device opened the request.
  fetched: ["approved", "denied", "cancelled", "expired", "suspended"],
  // An approved session whose one-time code was never redeemed ends as expired.
  approved: ["redeemed", "expired"],
  redeemed: [],
  denied: [],
  cancelled: [],
  expired: [],
  suspended: [],
};

export function canTransition(from: LoginState, to: LoginState): boolean {
  return NEXT_STATES[from].includes(to);
}

/** The states from which `to` may be reached, optionally narrowed to `among`. */
export function statesLeadingTo(to: LoginState, among?: readonly LoginState[]): LoginState[] {
  const all = (Object.keys(NEXT_STATES) as LoginState[]).filter((from) => canTransition(from, to));
  return among ? all.filter((s) => among.includes(s)) : all;
}

export function isOpenState(state: LoginState): boolean {
  return state === "pending" || state === "scanned" || state === "fetched";
}

export function isEndedState(state: LoginState): boolean {
  return NEXT_STATES[state].length === 0;
}
