"use client";

import { useCallback, useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import type { MeUser } from "../../lib/client/session-client";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { CopyButton } from "../ui/copy-button";
import { DateTime } from "../ui/date-time";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import { ChannelsProvider } from "../realtime/channels-provider";
import { NotificationsCard } from "../realtime/notifications-card";
import { OnlineNow } from "../realtime/online-now";
import { DeviceSecurity } from "./device-security";
import { useSession, useSessionStore } from "./use-session";

/** The signed-in page: who you are, when you came, and the way out. Sends signed-out visitors home. */
export function DashboardView() {
  const router = useRouter();
  const store = useSessionStore();
  const status = useSession((state) => state.status);
  const sessionError = useSession((state) => state.error);
  const [me, setMe] = useState<MeUser | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [isSigningOut, setIsSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);

  const load = useCallback(() => {
    let isCurrent = true;
    setLoadError(null);
    // StrictMode runs this twice; the session client sends a single refresh for both.
    store
      .getState()
      .fetchMe()
      .then(
        (user) => {
          if (isCurrent && user) setMe(user);
        },
        (error: unknown) => {
          if (isCurrent) setLoadError(error instanceof Error ? error.message : "Your account could not be loaded.");
        },
      );
    return () => {
      isCurrent = false;
    };
  }, [store]);

  useEffect(load, [load]);

  useEffect(() => {
    if (status === "signed-out") router.replace("/");
  }, [status, router]);

  async function signOut() {
    setIsSigningOut(true);
    setSignOutError(null);
    try {
      await store.getState().signOut();
      router.replace("/");
    } catch {
      setSignOutError("Could not reach the server to sign out. Check the connection and try again.");
      setIsSigningOut(false);
    }
  }

  const getAccessToken = useCallback(() => store.getState().getAccessToken(), [store]);

  const failure = loadError ?? (status === "error" ? sessionError : null);

  return (
    <div className="page dashboard">
      <div className="dashboard__head">
        <div>
          <span className="eyebrow">Dashboard</span>
          <h1>You&apos;re signed in</h1>
          <p className="muted">Your wallet signed a one-time challenge; no password was involved.</p>
        </div>
        {me && (
          <Button variant="secondary" onClick={signOut} disabled={isSigningOut}>
            {isSigningOut && <Spinner />}
            Sign out
          </Button>
        )}
      </div>

      {signOutError && (
        <Notice tone="error" role="alert">
          <p>{signOutError}</p>
        </Notice>
      )}

      {failure && !me ? (
        <Notice tone="error" role="alert">
          <p>
            <strong>Your session could not be checked.</strong> {failure}
          </p>
          <p style={{ marginTop: "0.75rem" }}>
            <Button variant="secondary" size="small" onClick={load}>
              Try again
            </Button>
          </p>
        </Notice>
      ) : !me ? (
        <div className="dashboard__loading" role="status">
          <Spinner />
          Checking your session…
        </div>
      ) : (
        <Card title="Your account" titleId="account-heading">
          <div className="stack" style={{ gap: "1.5rem" }}>
            <div className="field">
              <span className="field__label" id="address-label">
                Wallet address
              </span>
              <div className="copyable">
                <span className="address" aria-labelledby="address-label" data-testid="account-address">
                  {me.address}
                </span>
                <CopyButton value={me.address} label="Copy address" />
              </div>
            </div>
            <dl className="details-list">
              <dt>First login</dt>
              <dd>
                <DateTime iso={me.createdAt} />
              </dd>
              <dt>Last login</dt>
              <dd>{me.lastLoginAt ? <DateTime iso={me.lastLoginAt} /> : "—"}</dd>
              {Object.keys(me.claims).length > 0 && (
                <>
                  <dt>Verified claims</dt>
                  <dd>
                    <code>{JSON.stringify(me.claims)}</code>
                  </dd>
                </>
              )}
            </dl>
          </div>
        </Card>
      )}

      {/*
        Realtime slots (docs/protocol.md section 2), each in its own <Card>, only when signed in:
          - data-slot="presence":      "Online now" (presence-dashboard)
          - data-slot="notifications": notifications (private-user-<id>)
        One channels connection for both, opened by the provider and closed with the page.
      */}
      {me && (
        <ChannelsProvider getAccessToken={getAccessToken}>
          <div className="dashboard__slots">
            <div className="dashboard__slot" data-slot="presence">
              <OnlineNow channel="presence-dashboard" currentUserId={me.id} />
            </div>
            <div className="dashboard__slot" data-slot="notifications">
              <NotificationsCard userId={me.id} getAccessToken={getAccessToken} />
            </div>
          </div>
        </ChannelsProvider>
      )}

      {/* Push login: paired devices and "This wasn't me" reports (docs/protocol.md section 5). */}
      {me && (
        <div className="dashboard__slots" data-slot="devices">
          <DeviceSecurity getAccessToken={getAccessToken} />
        </div>
      )}
    </div>
  );
}
