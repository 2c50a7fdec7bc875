"use client";

import { useCallback, useEffect, useState } from "react";
import type { AppSummary, CreateAppBody, CreateAppResponse } from "../../lib/protocol/data";
import { useSession, useSessionStore } from "../auth/use-session";
import { Button, ButtonLink } from "../ui/button";
import { Card } from "../ui/card";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import { AppList } from "./app-list";
import { AppsApiError, changeAppActive, fetchApps, registerApp } from "./apps-api";
import { NewAppSecret } from "./new-app-secret";
import { RegisterAppForm } from "./register-app-form";
import styles from "./partners.module.css";

/**
 * /partners: the signed-in user's partner apps (docs/protocol.md section 3). Register one
 * by name (the server makes a key pair and shows its private key once) or with an
 * address the partner holds the key of; disable and enable them.
 */
export function PartnersView() {
  const store = useSessionStore();
  const status = useSession((state) => state.status);
  const sessionError = useSession((state) => state.error);
  const [apps, setApps] = useState<AppSummary[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreateAppResponse | null>(null);
  const [busyIds, setBusyIds] = useState<ReadonlySet<string>>(new Set());
  const [toggleError, setToggleError] = useState<string | null>(null);

  useEffect(() => {
    // StrictMode runs this twice; the session client sends a single refresh for both.
    void store.getState().ensureSession();
  }, [store]);

  const requireToken = useCallback(async () => {
    const token = await store.getState().getAccessToken();
    if (token === null) throw new AppsApiError("invalid_token", "Your session has ended. Sign in again.", 401);
    return token;
  }, [store]);

  const load = useCallback(() => {
    let isCurrent = true;
    setLoadError(null);
    requireToken()
      .then(fetchApps)
      .then(
        (list) => {
          if (isCurrent) setApps(list);
        },
        (error: unknown) => {
          if (isCurrent) setLoadError(error instanceof Error ? error.message : "Your apps could not be loaded.");
        },
      );
    return () => {
      isCurrent = false;
    };
  }, [requireToken]);

  useEffect(() => {
    if (status === "signed-in") return load();
  }, [status, load]);

  async function register(body: CreateAppBody) {
    const answer = await registerApp(await requireToken(), body);
    setCreated(answer);
    setApps((list) => [...(list ?? []), answer.app]);
  }

  async function toggle(app: AppSummary) {
    setToggleError(null);
    setBusyIds((ids) => new Set(ids).add(app.id));
    try {
      const changed = await changeAppActive(await requireToken(), app.id, !app.active);
      setApps((list) => list?.map((item) => (item.id === changed.id ? changed : item)) ?? null);
    } catch (error) {
      setToggleError(error instanceof Error ? error.message : "The app could not be changed.");
    } finally {
      setBusyIds((ids) => {
        const next = new Set(ids);
        next.delete(app.id);
        return next;
      });
    }
  }

  const head = (
    <div>
      <span className="eyebrow">Partners</span>
      <h1>Partner apps</h1>
      <p className="lead">
        A partner server reads your users and logins with signed requests: each one is signed with the app&apos;s key
        and accepted once.
      </p>
    </div>
  );

  if (status === "signed-out") {
    return (
      <div className={`page ${styles.layout}`}>
        {head}
        <Notice tone="info">
          <p>Sign in with your wallet to register and manage partner apps.</p>
          <p style={{ marginTop: "0.75rem" }}>
            <ButtonLink href="/" size="small">
              Sign in
            </ButtonLink>
          </p>
        </Notice>
      </div>
    );
  }
  if (status !== "signed-in") {
    return (
      <div className={`page ${styles.layout}`}>
        {head}
        {status === "error" ? (
          <Notice tone="error" role="alert">
            <p>
              <strong>Your session could not be checked.</strong> {sessionError}
            </p>
          </Notice>
        ) : (
          <div className="dashboard__loading" role="status">
            <Spinner />
            Checking your session…
          </div>
        )}
      </div>
    );
  }

  return (
    <div className={`page ${styles.layout}`}>
      {head}
      <Card title="Register an app" titleId="register-heading">
        {created ? (
          <NewAppSecret created={created} onDismiss={() => setCreated(null)} />
        ) : (
          <RegisterAppForm onRegister={register} />
        )}
      </Card>
      <Card title="Your apps" titleId="apps-heading">
        {toggleError && (
          <Notice tone="error" role="alert">
            <p>{toggleError}</p>
          </Notice>
        )}
        {loadError && apps === null ? (
          <Notice tone="error" role="alert">
            <p>{loadError}</p>
            <p style={{ marginTop: "0.75rem" }}>
              <Button variant="secondary" size="small" onClick={load}>
                Try again
              </Button>
            </p>
          </Notice>
        ) : apps === null ? (
          <div className="row muted" role="status">
            <Spinner />
            Loading your apps…
          </div>
        ) : (
          <AppList apps={apps} busyIds={busyIds} onToggle={toggle} />
        )}
      </Card>
    </div>
  );
}
