"use client";

/*
 * Push login on the wallet simulator (docs/protocol.md section 5). Accessible names, kept stable
 * for the end-to-end tests (getByRole / getByLabel):
 *   - region "Push sign-in": this whole panel
 *   - textbox "Device name", button "Pair this wallet"            (not paired yet)
 *   - status "Device connection": "Connected: waiting for sign-in requests." when ready
 *   - region "Incoming sign-in request": the pushed request, with its context (a description
 *     list: App, Site, Origin, Browser, IP address, Time) and
 *       textbox "Number shown on the sign-in page" (PUSH_MATCH_MODE=choose: a group of that
 *       name with one toggle button per number instead),
 *       buttons "Approve", "Deny", "This wasn't me"
 *   - the outcome, in a polite live region: heading "Approved" / "Denied" /
 *     "Reported: this wasn't me" / "Request ended" / the error's title; button "Dismiss"
 */
import { useId, useState } from "react";
import type { FormEvent } from "react";
import type { WalletKey } from "../../lib/wallet/index";
import { describePushClosed } from "../../lib/wallet/push-closed";
import { Button } from "../ui/button";
import { DateTime } from "../ui/date-time";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import { TypedNumberField } from "./typed-number-field";
import type { IncomingPush, PushAnswer, PushOutcome } from "./use-push-device";
import { usePushDevice } from "./use-push-device";

const STATUS_TEXT = {
  unpaired: "Not paired: pair this wallet to get sign-in requests pushed to it.",
  connecting: "Connecting…",
  connected: "Connected: waiting for sign-in requests.",
  disconnected: "Connection lost: reconnecting…",
  closed: "Not connected.",
} as const;

export function PushPanel({ walletKey }: { walletKey: WalletKey | null }) {
  const id = useId();
  const device = usePushDevice(walletKey);

  function handlePair(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("deviceName") ?? "").trim();
    void device.pair(name || "Wallet simulator");
  }

  return (
    <section className="phone__section stack" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Push sign-in</h2>
      <p className="small muted" role="status" aria-label="Device connection">
        {STATUS_TEXT[device.status]}
      </p>
      {device.status === "unpaired" && walletKey !== null && (
        <form className="stack" onSubmit={handlePair}>
          <div className="field">
            <label htmlFor={`${id}-name`}>Device name</label>
            <input
              id={`${id}-name`}
              className="input"
              name="deviceName"
              maxLength={64}
              defaultValue="Wallet simulator"
              autoComplete="off"
              aria-describedby={`${id}-pair-hint`}
            />
            <p className="field__hint" id={`${id}-pair-hint`}>
              Signs a one-time challenge from this site with the key above. The site then sends sign-in requests for
              this address here, no QR code needed.
            </p>
          </div>
          {device.pairError && (
            <p className="small text-danger" role="alert">
              {device.pairError.title}: {device.pairError.text}
            </p>
          )}
          <div>
            <Button type="submit" disabled={device.isPairing}>
              {device.isPairing && <Spinner />}
              Pair this wallet
            </Button>
          </div>
        </form>
      )}
      {device.incoming && (
        <IncomingRequest
          key={device.incoming.request.sessionId}
          incoming={device.incoming}
          onAnswer={(answer, matchCode) => void device.answer(answer, matchCode)}
        />
      )}
      <div aria-live="polite" aria-atomic="true">
        {device.outcome && <PushResult outcome={device.outcome} onDismiss={device.dismissOutcome} />}
      </div>
    </section>
  );
}

function IncomingRequest({
  incoming,
  onAnswer,
}: {
  incoming: IncomingPush;
  onAnswer(answer: PushAnswer, matchCode?: string): void;
}) {
  const id = useId();
  const [number, setNumber] = useState("");
  const { request, pending } = incoming;
  const c = request.context;
  const isBusy = pending !== null;
  const canApprove = /^[1-9][0-9]$/.test(number.trim());

  return (
    <section className="request stack" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Incoming sign-in request</h3>
      <dl className="details-list small">
        <dt>App</dt>
        <dd>{request.appName}</dd>
        <dt>Site</dt>
        <dd data-testid="push-domain">{request.domain}</dd>
        <dt>Origin</dt>
        <dd className="address">{c.origin ?? "unknown"}</dd>
        <dt>Browser</dt>
        <dd>
          {c.browser} on {c.os}
        </dd>
        <dt>IP address</dt>
        <dd>
          {c.ip ?? "unknown"}{" "}
          {c.ipMatches ? (
            <span className="text-success">(matches this device)</span>
          ) : (
            <strong className="text-danger">(not this device&apos;s network)</strong>
          )}
        </dd>
        <dt>Time</dt>
        <dd>
          <DateTime iso={c.time} />
        </dd>
      </dl>
      {!c.ipMatches && (
        <Notice tone="warning">
          <p className="small">The request comes from another network than this phone. Only approve if it is you.</p>
        </Notice>
      )}
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          if (canApprove) onAnswer("approve", number.trim());
        }}
      >
        {request.matchMode === "choose" ? (
          <div className="field">
            <span className="field__label" id={`${id}-choices`}>
              Number shown on the sign-in page
            </span>
            <div className="match-codes" role="group" aria-labelledby={`${id}-choices`}>
              {(request.matchChoices ?? []).map((code) => (
                <button
                  key={code}
                  type="button"
                  className="match-code"
                  aria-pressed={number === code}
                  disabled={isBusy}
                  onClick={() => setNumber(code)}
                >
                  {code}
                </button>
              ))}
            </div>
            <p className="field__hint">Pick the number the sign-in page shows. A wrong number ends this sign-in.</p>
          </div>
        ) : (
          <TypedNumberField value={number} disabled={isBusy} onChange={setNumber} what="this sign-in" />
        )}
        <div className="request__actions">
          <Button type="button" variant="danger" onClick={() => onAnswer("deny")} disabled={isBusy}>
            {pending === "deny" && <Spinner />}
            Deny
          </Button>
          <Button type="submit" disabled={isBusy || !canApprove}>
            {pending === "approve" && <Spinner />}
            Approve
          </Button>
        </div>
        <Button type="button" variant="secondary" size="small" onClick={() => onAnswer("not-me")} disabled={isBusy}>
          {pending === "not-me" && <Spinner />}
          This wasn&apos;t me
        </Button>
      </form>
    </section>
  );
}

function PushResult({ outcome, onDismiss }: { outcome: PushOutcome; onDismiss(): void }) {
  let title: string;
  let text: string;
  switch (outcome.kind) {
    case "approved":
      title = "Approved";
      text = `You are signed in on ${outcome.domain}. The other screen continues by itself.`;
      break;
    case "denied":
      title = "Denied";
      text = `You refused the sign-in to ${outcome.domain}. Nothing was signed.`;
      break;
    case "not-me":
      title = "Reported: this wasn't me";
      text =
        "The sign-in was refused, sign-in requests to this device pause for a while, and the report is listed on your dashboard.";
      break;
    case "closed":
      title = "Request ended";
      text = describePushClosed(outcome);
      break;
    case "error":
      title = outcome.error.title;
      text = `${outcome.error.text} (${outcome.error.code})`;
      break;
  }
  return (
    <div className={`result result--${outcome.kind === "not-me" ? "denied" : outcome.kind}`}>
      <h3>{title}</h3>
      <p className="small">{text}</p>
      <Button variant="secondary" size="small" onClick={onDismiss}>
        Dismiss
      </Button>
    </div>
  );
}
