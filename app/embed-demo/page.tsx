import type { Metadata } from "next";
import { EmbedDemo } from "../../components/auth/embed-demo";

export const metadata: Metadata = {
  title: "Embed demo · Wallet Login",
  description: "The QR-login widget used exactly as another app would embed it.",
};

const SAMPLE = `"use client";
import { useState } from "react";
import { QrLogin } from "@/components/qr-login";

export function SignIn() {
  const [user, setUser] = useState(null);
  if (user) return <p>Signed in: {user.address}</p>;
  return (
    <QrLogin
      endpoint="https://login.example.com"
      onLogin={({ user, accessToken, expiresIn }) => {
        // accessToken (valid expiresIn seconds) belongs in memory, never in localStorage.
        setUser(user);
      }}
      onError={({ code, message }) => console.warn(code, message)}
    />
  );
}`;

export default function EmbedDemoPage() {
  return (
    <div className="page stack" style={{ gap: "2.5rem" }}>
      <div>
        <span className="eyebrow">For integrators</span>
        <h1>Embed demo</h1>
        <p className="lead">
          The login widget as another app embeds it: one component, an endpoint and two callbacks. This page uses
          nothing else of this app, so what you see is what your page gets.
        </p>
      </div>
      <EmbedDemo />
      <section className="stack" aria-labelledby="sample-heading">
        <h2 id="sample-heading">The code</h2>
        {/* Scrolls sideways on narrow screens: focusable so a keyboard can scroll it too (WCAG 2.1.1). */}
        <pre className="code-sample" tabIndex={0} role="region" aria-label="Code: embedding the widget">
          <code>{SAMPLE}</code>
        </pre>
        <p className="muted small">
          <code>onLogin</code> runs once, after the wallet approved and the one-time code was traded for an access token
          (and an HttpOnly refresh cookie). From another origin, list your site in the server&apos;s{" "}
          <code>ALLOWED_ORIGINS</code>.
        </p>
        <p className="muted small">
          To ask for verifiable claims, pass <code>requiredClaims</code> (try this page with{" "}
          <code>?claims=age_over_18</code>): the wallet must then present a credential from an attestor the server
          trusts, and the disclosed claims arrive in <code>user.claims</code>.
        </p>
      </section>
    </div>
  );
}
