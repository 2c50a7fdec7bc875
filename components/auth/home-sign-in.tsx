"use client";

import { useCallback, useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { QrLogin } from "../qr-login";
import type { QrLoginResult } from "../qr-login";
import { ButtonLink } from "../ui/button";
import { Notice } from "../ui/notice";
import { useSession, useSessionStore } from "./use-session";

/** The home page's live login: the QR widget, or a way on when the refresh cookie already gives a session. */
export function HomeSignIn() {
  const router = useRouter();
  const store = useSessionStore();
  const status = useSession((state) => state.status);
  const address = useSession((state) => state.user?.address);
  const [isLeaving, setIsLeaving] = useState(false);

  useEffect(() => {
    // StrictMode runs this twice; the session client sends a single refresh for both.
    void store.getState().ensureSession();
  }, [store]);

  const handleLogin = useCallback(
    (result: QrLoginResult) => {
      setIsLeaving(true);
      store.getState().signIn(result);
      router.push("/dashboard");
    },
    [store, router],
  );

  return (
    <>
      {status === "signed-in" && address !== undefined && !isLeaving && (
        <div className="home__continue">
          <Notice tone="success">
            <div>
              <strong>You are already signed in</strong>
              <span className="address small muted" style={{ display: "block" }}>
                {address}
              </span>
            </div>
            <ButtonLink href="/dashboard" size="small">
              Continue to dashboard
            </ButtonLink>
          </Notice>
        </div>
      )}
      <div className="home__widget">
        <div className="login-card card">
          <QrLogin onLogin={handleLogin} push />
        </div>
      </div>
    </>
  );
}
