"use client";

import { useEffect, useState } from "react";
// Exactly what an outside app imports: the widget's public entry, nothing else.
import { QrLogin } from "../qr-login";
import type { QrLoginError, QrLoginResult } from "../qr-login";
import { Notice } from "../ui/notice";

/**
 * The widget as a third-party page uses it: an explicit `endpoint`, its own
 * `onLogin` and `onError`, no session provider of this app. Here the endpoint is
 * this page's origin; another site would put the login server's origin there (and
 * the server would list that site in `ALLOWED_ORIGINS`). `?claims=email,age_over_18` in the
 * page's address passes `requiredClaims` (docs/protocol.md section 4).
 */
/** What docs/protocol.md allows as a claim name; others in `?claims=` are dropped. */
const CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

export function EmbedDemo() {
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const [requiredClaims, setRequiredClaims] = useState<string[]>([]);
  const [result, setResult] = useState<QrLoginResult | null>(null);
  const [error, setError] = useState<QrLoginError | null>(null);

  useEffect(() => {
    setEndpoint(window.location.origin);
    const claims = new URLSearchParams(window.location.search).get("claims");
    if (claims)
      setRequiredClaims(
        claims
          .split(",")
          .filter((name) => CLAIM_NAME.test(name))
          .slice(0, 16),
      );
  }, []);

  return (
    <div className="embed-demo">
      <div className="embed-demo__widget">
        <div className="login-card card">
          {endpoint !== null && (
            <QrLogin
              endpoint={endpoint}
              push
              {...(requiredClaims.length > 0 ? { requiredClaims } : {})}
              onLogin={(login) => {
                setError(null);
                setResult(login);
              }}
              onError={(failure) => setError(failure)}
            />
          )}
        </div>
      </div>
      <section className="embed-demo__output stack" aria-labelledby="embed-output-heading">
        <h2 id="embed-output-heading">What the page receives</h2>
        <div aria-live="polite" className="stack">
          {result === null && error === null && (
            <p className="muted">Nothing yet: sign in with the code to see the callback&apos;s result here.</p>
          )}
          {result !== null && (
            <>
              <Notice tone="success">
                <p>
                  Logged in as <span className="address">{result.user.address}</span>
                </p>
              </Notice>
              <pre className="code-sample" aria-label="User JSON">
                {JSON.stringify(result.user, null, 2)}
              </pre>
            </>
          )}
          {error !== null && (
            <Notice tone="error">
              <p>
                <strong>onError:</strong> {error.message} <code>({error.code})</code>
              </p>
            </Notice>
          )}
        </div>
      </section>
    </div>
  );
}
