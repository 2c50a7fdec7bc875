"use client";

import { useId, useState } from "react";
import type { LoginRequest } from "../../lib/protocol/login";
import { Button } from "../ui/button";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";

export interface RequestReviewProps {
  request: LoginRequest;
  /** Which answer is on its way, if any. */
  pending: "approve" | "deny" | null;
  onApprove(matchCode: string): void;
  onDeny(): void;
}

/**
 * What a wallet shows before signing: who asks (the domain, the phishing check), what
 * is signed, and the match code the person must pick from the desktop screen.
 */
export function RequestReview({ request, pending, onApprove, onDeny }: RequestReviewProps) {
  const id = useId();
  const [chosen, setChosen] = useState<string | null>(null);
  const isBusy = pending !== null;

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

      {request.requiredClaims.length > 0 && (
        <Notice tone="warning">
          <p className="small">
            The site also asks for verified claims ({request.requiredClaims.join(", ")}). This simulator cannot present
            claims yet, so the site will refuse the login.
          </p>
        </Notice>
      )}

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
        <p className="field__hint">Picking the wrong number ends this login, to stop someone else's code being used.</p>
      </div>

      <div className="request__actions">
        <Button variant="danger" onClick={onDeny} disabled={isBusy}>
          {pending === "deny" && <Spinner />}
          Deny
        </Button>
        <Button onClick={() => chosen !== null && onApprove(chosen)} disabled={isBusy || chosen === null}>
          {pending === "approve" && <Spinner />}
          Approve
        </Button>
      </div>
    </section>
  );
}
