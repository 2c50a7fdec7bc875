"use client";

import { useEffect, useId, useState } from "react";
import type { LoginRequest } from "../../lib/protocol/login";
import { pickCredentialFor, readCredentialInfo, type CredentialInfo } from "../../lib/wallet/index";
import type { StoredCredential } from "./credential-db";
import { Button } from "../ui/button";
import { Spinner } from "../ui/spinner";
import { TypedNumberField } from "./typed-number-field";

export interface RequestReviewProps {
  request: LoginRequest;
  /** Which answer is on its way, if any. */
  pending: "approve" | "deny" | null;
  /** `credential`: the SD-JWT VC (kept or pasted) for a request that lists `requiredClaims`. */
  onApprove(matchCode: string, credential?: string): void;
  onDeny(): void;
  /** The credentials this wallet keeps; one holding every claim asked for is offered. */
  stored?: readonly StoredCredential[];
}

/** The kept credential that can answer `requiredClaims`, with what it would disclose. */
function useMatchingCredential(stored: readonly StoredCredential[], requiredClaims: readonly string[]) {
  const [match, setMatch] = useState<{ item: StoredCredential; info: CredentialInfo } | null>(null);
  useEffect(() => {
    let isCurrent = true;
    if (requiredClaims.length === 0) return;
    void pickCredentialFor(stored, requiredClaims).then(async (item) => {
      const info = item ? await readCredentialInfo(item.credential) : null;
      if (isCurrent) setMatch(item && info ? { item, info } : null);
    });
    return () => {
      isCurrent = false;
    };
  }, [stored, requiredClaims]);
  return match;
}

/**
 * What a wallet shows before signing: who asks (the domain, the phishing check), what
 * is signed, and the match code the person must pick from the desktop screen.
 */
export function RequestReview({ request, pending, onApprove, onDeny, stored = [] }: RequestReviewProps) {
  const id = useId();
  const [chosen, setChosen] = useState<string | null>(null);
  const [pasted, setCredential] = useState("");
  const match = useMatchingCredential(stored, request.requiredClaims);
  const credential = match ? match.item.credential : pasted;
  const isBusy = pending !== null;
  const needsClaims = request.requiredClaims.length > 0;
  // QR_MATCH_MODE=type: the person types the number instead of picking it.
  const isTyped = request.matchMode === "type";
  const hasNumber = chosen !== null && (!isTyped || /^[1-9][0-9]$/.test(chosen));
  const canApprove = hasNumber && (!needsClaims || credential.trim() !== "");

  return (
    <section className="phone__section request" aria-labelledby={`${id}-heading`}>
      <div>
        <h2 id={`${id}-heading`} className="visually-hidden">
          Sign-in request
        </h2>
        <p className="request__app">{request.appName}</p>
        <p className="muted small" style={{ margin: 0 }}>
          wants you to sign in with your wallet
        </p>
      </div>

      <div className="request__domain">
        <span className="request__domain-label" id={`${id}-domain-label`}>
          Signing in to
        </span>
        <strong className="request__domain-value" aria-labelledby={`${id}-domain-label`} data-testid="request-domain">
          {request.domain}
        </strong>
        <span className="request__domain-hint">
          Only go on if this is the address of the site you are signing in to.
        </span>
      </div>

      <blockquote className="request__statement">{request.statement}</blockquote>

      <dl className="details-list small">
        <dt>Site</dt>
        <dd className="address">{request.uri}</dd>
        <dt>Chain</dt>
        <dd>{request.chainId}</dd>
      </dl>

      {needsClaims && match && (
        <div className="stack" style={{ gap: "0.4rem" }} data-testid="disclosure">
          <span className="field__label">This site asks for verified claims; approving shares only these:</span>
          <dl className="details-list small">
            {request.requiredClaims.map((name) => (
              <div key={name} style={{ display: "contents" }}>
                <dt>{name}</dt>
                <dd>{JSON.stringify(match.info.claims[name])}</dd>
              </div>
            ))}
          </dl>
          <p className="field__hint">
            From your credential by {match.info.issuer}
            {Object.keys(match.info.claims).length > request.requiredClaims.length
              ? `; its other claims (${Object.keys(match.info.claims)
                  .filter((name) => !request.requiredClaims.includes(name))
                  .join(", ")}) stay hidden`
              : ""}
            . To decline, press Deny: nothing is shared or signed.
          </p>
        </div>
      )}

      {needsClaims && !match && (
        <div className="stack" style={{ gap: "0.4rem" }}>
          <label className="field__label" htmlFor={`${id}-credential`}>
            Verified claims asked for: {request.requiredClaims.join(", ")}
          </label>
          <textarea
            id={`${id}-credential`}
            name="credential"
            className="input mono"
            rows={3}
            spellCheck={false}
            placeholder="Paste a credential (SD-JWT VC) issued to this wallet"
            value={pasted}
            disabled={isBusy}
            onChange={(event) => setCredential(event.target.value)}
            aria-describedby={`${id}-credential-hint`}
          />
          <p className="field__hint" id={`${id}-credential-hint`}>
            No credential in this wallet holds them: request one under Credentials, or paste one. Only these claims are
            shared. For a test credential from the development attestor, run{" "}
            <code>npm run wallet -- attest --key &lt;this wallet&apos;s private key&gt; --claim name=value</code>.
          </p>
        </div>
      )}

      {isTyped ? (
        <TypedNumberField
          value={chosen ?? ""}
          disabled={isBusy}
          onChange={(typed) => setChosen(typed.trim() || null)}
          what="this login"
        />
      ) : (
        <div className="stack" style={{ gap: "0.6rem" }}>
          <span className="field__label" id={`${id}-codes`}>
            Which number does the sign-in page show?
          </span>
          <div className="match-codes" role="group" aria-labelledby={`${id}-codes`}>
            {request.matchChoices.map((code) => (
              <button
                key={code}
                type="button"
                className="match-code"
                aria-pressed={chosen === code}
                disabled={isBusy}
                onClick={() => setChosen(code)}
              >
                {code}
              </button>
            ))}
          </div>
          <p className="field__hint">
            Picking the wrong number ends this login, to stop someone else's code being used.
          </p>
        </div>
      )}

      <div className="request__actions">
        <Button variant="danger" onClick={onDeny} disabled={isBusy}>
          {pending === "deny" && <Spinner />}
          Deny
        </Button>
        <Button
          onClick={() => chosen !== null && onApprove(chosen, needsClaims ? credential : undefined)}
          disabled={isBusy || !canApprove}
        >
          {pending === "approve" && <Spinner />}
          Approve
        </Button>
      </div>
    </section>
  );
}
