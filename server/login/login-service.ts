/**
 * Login sessions (docs/protocol.md section 1).
 * - Identifiers: sessionId 128 random bits, nonce 96+ bits alphanumeric, browserSecret
 *   256 bits of which only the SHA-256 is stored, one-time code 256 bits living 60 s.
 * - One try per QR: any 401 on an open session ends it as `denied` with that reason.
 * - Cheap checks (state, fields, match code) run before any elliptic-curve work.
 * - Expiry is checked on every access, and a timer pushes it to the browser.
 * - Every change of state is one compare-and-set in the store, so exactly one of
 *   several racing answers wins, on one node or many.
 */
import type {
  LoginRequest,
  LoginState,
  LoginStateEvent,
  SessionStatus,
  StartedSession,
} from "../../lib/protocol/login";
import { OPEN_STATES, type AuthBody } from "../../lib/protocol/login";
import type { ErrorCode, Result } from "../../lib/protocol/errors";
import { parseSiweMessage } from "../../lib/protocol/siwe";
import type { Config } from "../config";
import {
  matchModeOf,
  shownMatchChoices,
  type LoginSessionRecord,
  type LoginSessionStore,
  type TransitionRequest,
} from "../store/types";
import {
  generateMatchChoices,
  randomAlphanumeric,
  randomBase64url,
  sha256Base64url,
  timingSafeEqualString,
} from "../crypto/random";
import { recoverPersonalSign } from "../crypto/eip191";
import { keccak256 } from "../crypto/keccak";
import type { SignatureVerifier } from "../crypto/secp256k1";
import type { PresentationVerifier } from "../claims/verify-presentation";
import type { AppMetrics } from "../metrics/metrics";
import { isEndedState, isOpenState, statesLeadingTo } from "./state-machine";

export const CODE_TTL_MS = 60_000;
export const CLOCK_SKEW_MS = 60_000;
/** Closed sessions stay readable this long, so late callers learn "closed", not "unknown". */
const KEEP_AFTER_END_MS = 120_000;

export interface ApprovedLogin {
  sessionId: string;
  address: string;
  requiredClaims: string[];
  /** How the browser asked: a scanned QR or a push to a paired device (section 5). */
  method: "qr" | "push";
  /** Claims disclosed by a verified presentation (docs/protocol.md section 4), to store on the user. */
  claims?: Record<string, unknown>;
  /** Who answered: the wallet's IP and user agent, for the login event. */
  ip?: string;
  userAgent?: string;
  /** The wallet's request (X-Request-Id), for logs. */
  requestId?: string;
}

export interface LoginServiceDeps {
  config: Pick<Config, "publicUrl" | "domain" | "appName" | "chainId" | "loginTtlMs"> &
    Partial<Pick<Config, "matchModes">>;
  store: LoginSessionStore;
  verifier: SignatureVerifier;
  /** Checks a wallet's `presentation` of verifiable claims (server/claims/). */
  presentations: Pick<PresentationVerifier, "verify">;
  /** Told why a presentation was refused (for the log; the wallet only gets the code). */
  onClaimsRefused?: (event: { sessionId: string; code: ErrorCode; reason: string; requestId?: string }) => void;
  /** Pushes a state change to the browser sockets holding the session (any node). */
  notify: (event: LoginStateEvent) => void;
  /** Called once the session is approved, before the browser hears of it: creates or updates the user. */
  onApproved: (login: ApprovedLogin) => Promise<{ userId: string }>;
  /** Asks for a call of `expireIfDue(sessionId)` at `at` (epoch ms). */
  scheduleExpiry: (sessionId: string, at: number) => void;
  /** Drops a session's expiry timer once it ended, so no timer outlives its login by a minute. */
  cancelExpiry?: (sessionId: string) => void;
  /** Counts starts and the states sessions end up in (server/metrics/); each once per session. */
  metrics?: Pick<AppMetrics, "noteLoginStarted" | "noteLoginOutcome">;
  /**
   * The stores' epoch (Stores.readEpoch): a session issued before it may have been restored
   * from an older copy of the store, so it is ended (`expired`, reason `store_reset`) instead of
   * answered: a wallet answer or a code accepted before a restart is never accepted again.
   */
  readStoreEpoch?: () => number | Promise<number>;
  /** A push session (section 5) ended: tell the devices of its address (push:closed). */
  onPushEnded?: (session: LoginSessionRecord) => void;
  now?: () => number;
}

export function createLoginService(deps: LoginServiceDeps) {
  const { config, store, verifier, notify } = deps;
  const now = deps.now ?? Date.now;
  const requestUriOf = (sessionId: string) => `${config.publicUrl}/api/login/requests/${sessionId}`;
  const publicScheme = new URL(config.publicUrl).protocol.slice(0, -1);

  /** A store transition; one that ends the session also sets when it is forgotten (KEEP_AFTER_END_MS from now). */
  async function transition(id: string, request: TransitionRequest) {
    const ends = isEndedState(request.to);
    const result = await store.transition(id, ends ? { ...request, forgetAt: now() + KEEP_AFTER_END_MS } : request);
    if (result.ok) {
      const s = result.session;
      if (isEndedState(s.state)) deps.cancelExpiry?.(s.id);
      // Redeemed is counted by redeemCode, which still knows when the session was approved.
      if (s.state === "denied" || s.state === "cancelled" || s.state === "expired") {
        deps.metrics?.noteLoginOutcome(s.state, now(), s.issuedAt);
      }
      if (s.kind === "push" && !isOpenState(s.state)) deps.onPushEnded?.(s);
      notify({
        sessionId: s.id,
        state: s.state,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.state === "approved" && s.code ? { code: s.code } : {}),
      });
    }
    return result;
  }

  /** The fast paths' guard: a session from before the stores' epoch takes the read below (load). */
  async function sinceEpoch(): Promise<{ issuedSince?: number }> {
    return deps.readStoreEpoch ? { issuedSince: await deps.readStoreEpoch() } : {};
  }

  /** Reads a session, ending it as `expired` first if its time has run out. */
  async function load(id: string): Promise<LoginSessionRecord | null> {
    const session = await store.get(id);
    if (!session) return null;
    const t = now();
    const isLapsed =
      (isOpenState(session.state) && t >= session.expiresAt) ||
      (session.state === "approved" && t >= (session.codeExpiresAt ?? session.expiresAt));
    const isLive = isOpenState(session.state) || session.state === "approved";
    const isBeforeEpoch =
      isLive && deps.readStoreEpoch !== undefined && session.issuedAt < (await deps.readStoreEpoch());
    if (!isLapsed && !isBeforeEpoch) return session;
    const ended = await transition(id, {
      from: isOpenState(session.state) ? OPEN_STATES : ["approved"],
      to: "expired",
      patch: { reason: isLapsed ? "session_expired" : "store_reset", code: undefined },
    });
    // Someone else moved it meanwhile (approved it in time, or ended it): read again.
    if (!ended.ok && ended.session && ended.session.state !== session.state) return load(id);
    return ended.session;
  }

  /** A QR session is answered only over HTTP, a push only by a device of its address. */
  function isSameFlow(session: LoginSessionRecord, pushAddress: string | undefined): boolean {
    if (session.kind !== "push") return pushAddress === undefined;
    return pushAddress !== undefined && pushAddress.toLowerCase() === session.pushAddress?.toLowerCase();
  }

  function closedCode(session: LoginSessionRecord): ErrorCode {
    return session.state === "expired" ? "session_expired" : "session_closed";
  }

  /** Any 401 on an open session ends it: one try per QR. */
  async function refuse(session: LoginSessionRecord, code: ErrorCode, reason?: string): Promise<Result<never>> {
    await transition(session.id, {
      from: statesLeadingTo("denied", OPEN_STATES),
      to: "denied",
      patch: { reason: code },
    });
    return { ok: false, code, ...(reason ? { reason } : {}) };
  }

  function statusOf(session: LoginSessionRecord): SessionStatus {
    return {
      sessionId: session.id,
      state: session.state,
      expiresAt: new Date(session.expiresAt).toISOString(),
      ...(session.reason ? { reason: session.reason } : {}),
      // The code is handed out only once the user is written (see submitLoginAnswer).
      ...(session.state === "approved" && session.code && session.userId ? { code: session.code } : {}),
    };
  }

  /** Loads a session for its browser: unknown and wrong secret look the same. */
  async function loadForBrowser(sessionId: string, browserSecret: string): Promise<LoginSessionRecord | null> {
    const session = await load(sessionId);
    if (!session || !timingSafeEqualString(session.browserSecretHash, sha256Base64url(browserSecret))) return null;
    return session;
  }

  const service = {
    async startLogin(input: {
      requiredClaims?: string[];
      push?: { address: string; context: NonNullable<LoginSessionRecord["pushContext"]> };
    }): Promise<StartedSession> {
      const t = now();
      const sessionId = randomBase64url(16);
      const browserSecret = randomBase64url(32);
      const { matchCode, matchChoices } = generateMatchChoices();
      const expiresAt = t + config.loginTtlMs;
      await store.create(
        {
          id: sessionId,
          state: "pending",
          nonce: randomAlphanumeric(22),
          browserSecretHash: sha256Base64url(browserSecret),
          matchCode,
          matchChoices,
          matchMode: (input.push ? config.matchModes?.push : config.matchModes?.qr) ?? (input.push ? "type" : "choose"),
          requiredClaims: input.requiredClaims ?? [],
          issuedAt: t,
          expiresAt,
          ...(input.push
            ? { kind: "push" as const, pushAddress: input.push.address, pushContext: input.push.context }
            : {}),
        },
        expiresAt + KEEP_AFTER_END_MS,
      );
      deps.scheduleExpiry(sessionId, expiresAt);
      deps.metrics?.noteLoginStarted();
      const requestUri = requestUriOf(sessionId);
      return {
        sessionId,
        requestUri,
        qr: requestUri,
        state: "pending",
        expiresAt: new Date(expiresAt).toISOString(),
        matchCode,
        browserSecret,
      };
    },

    async resumeLogin(input: {
      sessionId: string;
      browserSecret: string;
    }): Promise<Result<{ session: SessionStatus }>> {
      const session = await loadForBrowser(input.sessionId, input.browserSecret);
      if (!session) return { ok: false, code: "session_not_found" };
      if (isOpenState(session.state)) deps.scheduleExpiry(session.id, session.expiresAt);
      if (session.state === "approved") deps.scheduleExpiry(session.id, session.codeExpiresAt ?? session.expiresAt);
      return { ok: true, session: statusOf(session) };
    },

    async cancelLogin(input: { sessionId: string; browserSecret: string }): Promise<Result<object>> {
      const session = await loadForBrowser(input.sessionId, input.browserSecret);
      if (!session) return { ok: false, code: "session_not_found" };
      const result = await transition(session.id, {
        from: statesLeadingTo("cancelled", OPEN_STATES),
        to: "cancelled",
        expect: { browserSecretHash: session.browserSecretHash },
        patch: { reason: "cancelled" },
      });
      return result.ok
        ? { ok: true }
        : { ok: false, code: result.session ? closedCode(result.session) : "session_not_found" };
    },

    /** The polling fallback: same answer as resume. */
    async readSessionStatus(sessionId: string, browserSecret: string): Promise<SessionStatus | null> {
      const session = await loadForBrowser(sessionId, browserSecret);
      return session ? statusOf(session) : null;
    },

    /** What the wallet reads after scanning; the first read moves `pending` to `scanned`. */
    async readLoginRequest(sessionId: string): Promise<Result<{ request: LoginRequest }>> {
      // The common case in one store call: a live pending QR session (no pushAddress) moves to
      // scanned. Anything else (read again, lapsed, closed, unknown, a push) takes the read below.
      const scanned = await transition(sessionId, {
        from: ["pending"],
        to: "scanned",
        liveAt: now(),
        ...(await sinceEpoch()),
        expect: { pushAddress: undefined },
      });
      const session = scanned.ok ? scanned.session : await load(sessionId);
      if (!session || session.kind === "push") return { ok: false, code: "session_not_found" };
      if (!isOpenState(session.state)) return { ok: false, code: closedCode(session) };
      if (session.state === "pending") {
        const moved = await transition(sessionId, {
          from: ["pending"],
          to: "scanned",
          expect: { pushAddress: undefined },
        });
        if (!moved.ok && (!moved.session || !isOpenState(moved.session.state))) {
          return { ok: false, code: moved.session ? closedCode(moved.session) : "session_not_found" };
        }
      }
      return {
        ok: true,
        request: {
          sessionId,
          appName: config.appName,
          domain: config.domain,
          uri: config.publicUrl,
          version: "1",
          chainId: config.chainId,
          nonce: session.nonce,
          issuedAt: new Date(session.issuedAt).toISOString(),
          expirationTime: new Date(session.expiresAt).toISOString(),
          statement: `Sign in to ${config.appName}`,
          requestId: sessionId,
          responseUri: `${config.publicUrl}/api/auth`,
          matchMode: matchModeOf(session),
          matchChoices: shownMatchChoices(session),
          requiredClaims: session.requiredClaims,
        },
      };
    },

    /** The wallet's signed answer. */
    async submitLoginAnswer(
      body: AuthBody,
      meta: { ip?: string; userAgent?: string; requestId?: string } = {},
      via: { pushAddress?: string } = {},
    ): Promise<Result<{ state: "approved" }>> {
      const session = await load(body.sessionId);
      if (!session || !isSameFlow(session, via.pushAddress)) return { ok: false, code: "session_not_found" };
      if (!isOpenState(session.state)) return { ok: false, code: closedCode(session) };

      const parsed = parseSiweMessage(body.message, { keccak256 });
      if (!parsed.ok) return { ok: false, code: "invalid_request" };
      const m = parsed.message;
      const t = now();
      if (m.nonce !== session.nonce) return refuse(session, "nonce_mismatch");
      if (m.domain !== config.domain) return refuse(session, "domain_mismatch");
      const issuedAt = Date.parse(m.issuedAt);
      const isFieldWrong =
        m.uri !== config.publicUrl ||
        m.version !== "1" ||
        m.chainId !== config.chainId ||
        m.requestId !== session.id ||
        (m.scheme !== undefined && m.scheme !== publicScheme) ||
        !(issuedAt >= session.issuedAt - CLOCK_SKEW_MS && issuedAt <= session.expiresAt + CLOCK_SKEW_MS) ||
        (m.expirationTime !== undefined && Date.parse(m.expirationTime) <= t) ||
        (m.notBefore !== undefined && Date.parse(m.notBefore) > t + CLOCK_SKEW_MS);
      if (isFieldWrong) return refuse(session, "field_mismatch");
      if (!timingSafeEqualString(body.matchCode, session.matchCode)) return refuse(session, "wrong_match_code");
      // Checked before any signature work: nothing to verify can only be missing.
      if (session.requiredClaims.length > 0 && body.presentation === undefined) {
        return refuse(session, "claims_missing");
      }

      const recovered = recoverPersonalSign(verifier, body.message, body.signature);
      if (!recovered || recovered.toLowerCase() !== m.address.toLowerCase())
        return refuse(session, "invalid_signature");
      // A push is answered only by the key of the address it was sent to.
      if (session.pushAddress !== undefined && recovered.toLowerCase() !== session.pushAddress.toLowerCase())
        return refuse(session, "invalid_signature");

      // A presentation is verified whenever one is sent, also one nobody asked for: its
      // disclosed claims are stored on the user, so none is stored unchecked.
      let claims: Record<string, unknown> | undefined;
      if (body.presentation !== undefined) {
        const checked = await deps.presentations.verify({
          presentation: body.presentation,
          nonce: session.nonce,
          aud: config.publicUrl,
          holderAddress: recovered,
          requiredClaims: session.requiredClaims,
          now: now(),
        });
        if (!checked.ok) {
          deps.onClaimsRefused?.({
            sessionId: session.id,
            code: checked.code,
            reason: checked.reason,
            requestId: meta.requestId,
          });
          return refuse(session, checked.code, checked.statusReason);
        }
        claims = checked.claims;
      }

      // Claim the session before touching the database, so only the winner writes.
      const code = randomBase64url(32);
      const codeExpiresAt = now() + CODE_TTL_MS;
      const claimed = await store.transition(session.id, {
        from: statesLeadingTo("approved", OPEN_STATES),
        to: "approved",
        patch: { address: recovered, code, codeExpiresAt, approvedAt: now() },
        keepUntil: codeExpiresAt + KEEP_AFTER_END_MS,
      });
      if (!claimed.ok) return { ok: false, code: claimed.session ? closedCode(claimed.session) : "session_not_found" };
      let userId: string;
      try {
        ({ userId } = await deps.onApproved({
          sessionId: session.id,
          address: recovered,
          requiredClaims: session.requiredClaims,
          method: session.pushAddress === undefined ? "qr" : "push",
          ...(claims ? { claims } : {}),
          ...meta,
        }));
      } catch (err) {
        // The user could not be written: end the session so the browser is told, then let the boundary log it.
        await transition(session.id, {
          from: ["approved"],
          to: "expired",
          patch: { reason: "internal_error", code: undefined },
        });
        throw err;
      }
      // The user id rides along in the record; the browser learns of approval only now.
      const withUser = await store.transition(session.id, { from: ["approved"], to: "approved", patch: { userId } });
      if (withUser.ok) {
        deps.metrics?.noteLoginOutcome("approved", now(), session.issuedAt);
        notify({ sessionId: session.id, state: "approved", code });
        deps.scheduleExpiry(session.id, codeExpiresAt);
      }
      return { ok: true, state: "approved" };
    },

    async denyLogin(sessionId: string): Promise<Result<{ state: "denied" }>> {
      const denied = await denyAs(sessionId, {});
      return denied.ok ? { ok: true, state: "denied" } : denied;
    },

    /** A device's `push:deny` (section 5): reason `user_denied` or `not_me`. */
    denyPush(
      sessionId: string,
      via: { pushAddress: string; reason: "user_denied" | "not_me" },
    ): Promise<Result<{ session: LoginSessionRecord }>> {
      return denyAs(sessionId, via);
    },

    /** A device opens a push (section 5): the first open moves `pending` to `fetched`. */
    async openPush(sessionId: string, pushAddress: string): Promise<Result<{ session: LoginSessionRecord }>> {
      let session = await load(sessionId);
      if (!session || !isSameFlow(session, pushAddress)) return { ok: false, code: "session_not_found" };
      if (!isOpenState(session.state)) return { ok: false, code: closedCode(session) };
      if (session.state === "pending") {
        const moved = await transition(sessionId, { from: ["pending"], to: "fetched" });
        session = moved.session;
        if (!session || !isOpenState(session.state)) {
          return { ok: false, code: session ? closedCode(session) : "session_not_found" };
        }
      }
      return { ok: true, session };
    },

    /** A push session still open for a device of `pushAddress` (a device that connects late gets it), else null. */
    async readOpenPush(sessionId: string, pushAddress: string): Promise<LoginSessionRecord | null> {
      const session = await load(sessionId);
      return session && isSameFlow(session, pushAddress) && isOpenState(session.state) ? session : null;
    },

    /** A newer push for the same address ends this one if it is still open. */
    async supersedePush(sessionId: string): Promise<void> {
      await transition(sessionId, {
        from: statesLeadingTo("suspended", OPEN_STATES),
        to: "suspended",
        patch: { reason: "superseded" },
      });
    },

    /** Trades the one-time code for the user; single use. */
    async redeemCode(input: {
      sessionId: string;
      browserSecret: string;
      code: string;
    }): Promise<Result<{ userId: string; address: string }>> {
      // One store call: the compare-and-set checks the state, the code's time, the browser secret
      // and the code. Only a refusal reads the session (which ends it if its time has run out).
      const redeemed = await transition(input.sessionId, {
        from: ["approved"],
        to: "redeemed",
        liveAt: now(),
        ...(await sinceEpoch()),
        expect: { browserSecretHash: sha256Base64url(input.browserSecret), code: input.code },
        patch: { code: undefined, codeExpiresAt: undefined },
      });
      if (!redeemed.ok) {
        await load(input.sessionId);
        return { ok: false, code: "invalid_code" };
      }
      // The code reaches the browser only once the user id is stored (submitLoginAnswer).
      const { userId, address } = redeemed.session;
      if (!userId || !address) return { ok: false, code: "invalid_code" };
      deps.metrics?.noteLoginOutcome("redeemed", now(), redeemed.session.issuedAt, redeemed.session.approvedAt);
      return { ok: true, userId, address };
    },

    /**
     * Ends an open or approved session whose time has come; called by the expiry timer. A session
     * the store no longer has (Redis came back empty) is announced `expired` (`store_reset`) to
     * its browser: nothing else would ever tell it.
     */
    async expireIfDue(sessionId: string): Promise<LoginState | null> {
      return endIfForgotten(sessionId);
    },

    /** The store was reset: a session it forgot, or issued before the reset, ends at its browser. */
    endIfForgotten,

    /**
     * True when the store has no record of the session. One issued before the stores' epoch is
     * ended by the read (`store_reset`), which tells its browser and devices itself.
     */
    async isForgotten(sessionId: string): Promise<boolean> {
      return (await load(sessionId)) === null;
    },
  };

  async function denyAs(
    sessionId: string,
    via: { pushAddress?: string; reason?: "user_denied" | "not_me" },
  ): Promise<Result<{ session: LoginSessionRecord }>> {
    const session = await load(sessionId);
    if (!session || !isSameFlow(session, via.pushAddress)) return { ok: false, code: "session_not_found" };
    if (!isOpenState(session.state)) return { ok: false, code: closedCode(session) };
    const result = await transition(sessionId, {
      from: statesLeadingTo("denied", OPEN_STATES),
      to: "denied",
      patch: { reason: via.reason ?? "user_denied" },
    });
    return result.ok
      ? { ok: true, session: result.session }
      : { ok: false, code: result.session ? closedCode(result.session) : "session_not_found" };
  }

  async function endIfForgotten(sessionId: string): Promise<LoginState | null> {
    const session = await load(sessionId);
    if (session) return session.state;
    notify({ sessionId, state: "expired", reason: "store_reset" });
    return null;
  }
  return service;
}

export type LoginService = ReturnType<typeof createLoginService>;
