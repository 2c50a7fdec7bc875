/**
 * What the widget's two stores (QR, ./store.ts, and push, ./push-store.ts) share about their
 * login client: made on first need, its events routed to the store, its socket calls run one
 * after another (the client follows one session at a time), the redeem of an approved login,
 * and closing it once the calls queued before are done.
 */
import type { LoginClient } from "../../lib/client/login-client";
import type { LoginStateEvent, PublicUser } from "../../lib/protocol/login";
import { describeError } from "./messages";

/** What `onLogin` receives once the one-time code has been redeemed. */
export interface QrLoginResult {
  user: PublicUser;
  accessToken: string;
  expiresIn: number;
}

/** What `onError` receives: a docs/protocol.md or login-client code and a human sentence. */
export interface QrLoginError {
  code: string;
  message: string;
}

/** The store actions the client's events go to (read at each event: the store's latest). */
export interface ClientHandlers {
  handleState(event: LoginStateEvent): void;
  handleClientError(error: { code: string; message: string }): void;
  handleReconnect(): void;
  handleDisconnect(): void;
}

export interface ClientSlot {
  current(): LoginClient | undefined;
  /** The live client, made (and listened to) if there is none. */
  attach(): LoginClient;
  /** Runs `task` after every socket call queued before it. */
  enqueue(task: () => Promise<void>): void;
  /** Stops listening and closes the socket once queued calls (and `beforeClose`) are done. */
  release(beforeClose?: (released: LoginClient) => Promise<void>): Promise<void>;
  /**
   * Redeems the approved login's code; `isCurrent` is asked when the answer comes (a later
   * cancel or unmount wins). On success the client is released before `onSignedIn`.
   */
  redeem(
    isCurrent: () => boolean,
    onSignedIn: (result: QrLoginResult) => void,
    onFailed: (error: QrLoginError) => void,
  ): void;
}

/** From a thrown LoginClientError (or anything else thrown), or from a bare code. */
export function toQrLoginError(error: unknown): QrLoginError {
  const code = typeof error === "string" ? error : (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : undefined;
  return typeof code === "string" ? { code, message: describeError(code, message) } : toQrLoginError("internal_error");
}

export async function cancelQuietly(client: LoginClient): Promise<void> {
  try {
    await client.cancel();
  } catch {
    // Already ended, or unreachable: either way the server ends it at its expiry.
  }
}

export function createClientSlot(createClient: () => LoginClient, handlers: () => ClientHandlers): ClientSlot {
  let client: LoginClient | undefined;
  let detach: (() => void) | undefined;
  let queue: Promise<void> = Promise.resolve();

  function release(beforeClose?: (released: LoginClient) => Promise<void>): Promise<void> {
    const released = client;
    const pending = queue;
    detach?.();
    client = undefined;
    detach = undefined;
    queue = Promise.resolve();
    if (released === undefined) return Promise.resolve();
    return pending.then(async () => {
      await beforeClose?.(released);
      released.close();
    });
  }

  return {
    current: () => client,

    attach() {
      if (client !== undefined) return client;
      const created = createClient();
      const onConnect = () => handlers().handleReconnect();
      const onDisconnect = () => handlers().handleDisconnect();
      const offState = created.onState((event) => handlers().handleState(event));
      const offError = created.onError((error) => handlers().handleClientError(error));
      created.socket.on("connect", onConnect);
      created.socket.on("disconnect", onDisconnect);
      detach = () => {
        offState();
        offError();
        created.socket.off("connect", onConnect);
        created.socket.off("disconnect", onDisconnect);
      };
      client = created;
      queue = Promise.resolve();
      return created;
    },

    enqueue(task) {
      queue = queue.then(task);
    },

    release,

    redeem(isCurrent, onSignedIn, onFailed) {
      client?.redeem().then(
        ({ user, accessToken, expiresIn }) => {
          if (!isCurrent()) return;
          // The socket has done its job; the session is redeemed, so there is nothing to cancel.
          void release();
          onSignedIn({ user, accessToken, expiresIn });
        },
        (error: unknown) => {
          if (isCurrent()) onFailed(toQrLoginError(error));
        },
      );
    },
  };
}
