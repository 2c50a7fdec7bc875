"use client";

import { useEffect, useId, useState } from "react";
import { OFFERED_CLAIMS } from "../../lib/protocol/attestor";
import {
  readCredentialInfo,
  readCredentialState,
  requestCredential,
  type CredentialInfo,
  type CredentialState,
  type WalletKey,
} from "../../lib/wallet/index";
import { Button } from "../ui/button";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import type { StoredCredential } from "./credential-db";
import { describeError } from "./describe-error";
import type { CredentialsState } from "./use-credentials";

interface Shown {
  item: StoredCredential;
  info: CredentialInfo | null;
  state: CredentialState | "checking";
}

/** One kept credential: issuer, claims, status; deletable. */
function CredentialRow({ shown, onDelete }: { shown: Shown; onDelete(): void }) {
  const { item, info, state } = shown;
  return (
    <li className="stack" style={{ gap: "0.25rem" }} data-testid="credential">
      {info === null ? (
        <p className="small">Unreadable credential {item.id}</p>
      ) : (
        <>
          <p className="small" style={{ margin: 0 }}>
            <strong>{Object.keys(info.claims).join(", ")}</strong> ·{" "}
            <span data-testid="credential-status">{state}</span>
          </p>
          <dl className="details-list small">
            {Object.entries(info.claims).map(([name, value]) => (
              <div key={name} style={{ display: "contents" }}>
                <dt>{name}</dt>
                <dd>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
              </div>
            ))}
            <dt>Issuer</dt>
            <dd className="address">{info.issuer}</dd>
            <dt>Expires</dt>
            <dd>{info.expiresAt ?? "never"}</dd>
          </dl>
        </>
      )}
      <div>
        <Button variant="ghost" size="small" onClick={onDelete} aria-label={`Delete credential ${item.id}`}>
          Delete
        </Button>
      </div>
    </li>
  );
}

/**
 * The simulator's credential wallet: the credentials kept for this key (IndexedDB) with their
 * claims, issuer and status, deletion, and a request to the app's demo attestor that waits on
 * the wallet's own channel for the encrypted credential (docs/protocol.md section 6).
 */
export function CredentialsPanel({ walletKey, store }: { walletKey: WalletKey; store: CredentialsState }) {
  const id = useId();
  const [shown, setShown] = useState<Shown[]>([]);
  const [wanted, setWanted] = useState<ReadonlySet<string>>(new Set(["member_since"]));
  const [email, setEmail] = useState("");
  const [progress, setProgress] = useState<"idle" | "asking" | "pending">("idle");
  const [message, setMessage] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const { credentials } = store;

  useEffect(() => {
    let isCurrent = true;
    const list = credentials ?? [];
    void Promise.all(
      list.map(async (item): Promise<Shown> => {
        try {
          const info = await readCredentialInfo(item.credential);
          return { item, info, state: await readCredentialState(info) };
        } catch {
          return { item, info: null, state: "unknown" };
        }
      }),
    ).then((rows) => {
      if (isCurrent) setShown(rows);
    });
    return () => {
      isCurrent = false;
    };
  }, [credentials]);

  async function ask() {
    setMessage(null);
    setProgress("asking");
    const claims = [...wanted];
    try {
      const received = await requestCredential({
        endpoint: window.location.origin,
        key: walletKey,
        claims,
        ...(wanted.has("verified_email") ? { email: email.trim() } : {}),
        onRequested: (request) => setProgress(request.status === "pending" ? "pending" : "asking"),
      });
      await store.add({ id: received.requestId, credential: received.credential, issuer: received.issuer });
      setMessage({ tone: "success", text: `Received a credential for ${claims.join(", ")}.` });
    } catch (error) {
      const described = describeError(error);
      setMessage({ tone: "error", text: `${described.title}: ${described.text}` });
    } finally {
      setProgress("idle");
    }
  }

  const toggle = (name: string) =>
    setWanted((current) => {
      const next = new Set(current);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  const needsEmail = wanted.has("verified_email");
  const canAsk = progress === "idle" && wanted.size > 0 && (!needsEmail || /^\S+@\S+\.\S+$/.test(email.trim()));

  return (
    <section className="phone__section stack" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Credentials</h2>
      {store.error && (
        <Notice tone="warning">
          <p>{store.error}</p>
        </Notice>
      )}
      {credentials === null ? (
        <p className="row muted small" role="status">
          <Spinner /> Loading credentials…
        </p>
      ) : shown.length === 0 ? (
        <p className="muted small">No credentials yet.</p>
      ) : (
        <ul className="stack" style={{ listStyle: "none", padding: 0, gap: "0.75rem" }} aria-label="Your credentials">
          {shown.map((row) => (
            <CredentialRow key={row.item.id} shown={row} onDelete={() => void store.remove(row.item.id)} />
          ))}
        </ul>
      )}

      <fieldset className="stack" style={{ gap: "0.4rem", border: 0, padding: 0, margin: 0 }}>
        <legend className="field__label">Ask the demo attestor for</legend>
        {Object.entries(OFFERED_CLAIMS).map(([name, offer]) => (
          <label key={name} className="row small">
            <input
              type="checkbox"
              checked={wanted.has(name)}
              disabled={progress !== "idle"}
              onChange={() => toggle(name)}
            />
            {name} {offer.grant === "approval" ? "(after an admin approves it)" : "(at once)"}
          </label>
        ))}
        {needsEmail && (
          <label className="stack small" style={{ gap: "0.2rem" }}>
            <span className="field__label">Email to verify</span>
            <input
              className="input"
              type="email"
              value={email}
              disabled={progress !== "idle"}
              onChange={(event) => setEmail(event.target.value)}
            />
          </label>
        )}
        <div>
          <Button size="small" onClick={() => void ask()} disabled={!canAsk}>
            {progress !== "idle" && <Spinner />}
            Request credential
          </Button>
        </div>
      </fieldset>
      <div aria-live="polite">
        {progress === "pending" && (
          <p className="muted small" role="status">
            Waiting for an admin to approve it (keep this page open)…
          </p>
        )}
        {message && (
          <Notice tone={message.tone} role={message.tone === "error" ? "alert" : "status"}>
            <p>{message.text}</p>
          </Notice>
        )}
      </div>
    </section>
  );
}
