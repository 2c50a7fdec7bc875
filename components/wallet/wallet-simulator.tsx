"use client";

import { useEffect, useRef, useState } from "react";
import { approveLogin, denyLogin, fetchLoginRequest, presentRequiredClaims } from "../../lib/wallet/index";
import type { LoginRequest } from "../../lib/protocol/login";
import { describeError } from "./describe-error";
import { KeyPanel } from "./key-panel";
import { LoginResult } from "./login-result";
import { PushPanel } from "./push-panel";
import type { LoginOutcome } from "./login-result";
import { QrInput } from "./qr-input";
import { RequestReview } from "./request-review";
import { useWalletKey } from "./use-wallet-key";
import { CredentialsPanel } from "./credentials-panel";
import { useCredentials } from "./use-credentials";

type Step =
  | { kind: "scan"; isFetching: boolean }
  | { kind: "review"; request: LoginRequest; pending: "approve" | "deny" | null }
  | { kind: "done"; outcome: LoginOutcome };

export interface WalletSimulatorProps {
  /** QR text from a link such as `/wallet?request=<qr text>` (the widget's "open in wallet" link); opened once. */
  linkedRequest?: string;
}

/** The simulated phone wallet: a key, a "scan", the request to check, and the answer; and push login as a paired device. */
export function WalletSimulator({ linkedRequest }: WalletSimulatorProps) {
  const { walletKey, isStored, createKey, importKey } = useWalletKey();
  const credentials = useCredentials(walletKey);
  const [step, setStep] = useState<Step>({ kind: "scan", isFetching: false });
  const openedLink = useRef<string | null>(null);
  // Ignores answers for a request the person already left ("Scan another code").
  const attempt = useRef(0);

  async function openRequest(qrText: string) {
    const current = ++attempt.current;
    setStep({ kind: "scan", isFetching: true });
    try {
      const request = await fetchLoginRequest(qrText);
      if (current === attempt.current) setStep({ kind: "review", request, pending: null });
    } catch (error) {
      if (current === attempt.current)
        setStep({ kind: "done", outcome: { kind: "error", error: describeError(error) } });
    }
  }

  async function answer(request: LoginRequest, choice: { matchCode: string; credential?: string } | "deny") {
    if (walletKey === null) return;
    const current = attempt.current;
    setStep({ kind: "review", request, pending: choice === "deny" ? "deny" : "approve" });
    let outcome: LoginOutcome;
    try {
      if (choice === "deny") {
        await denyLogin(request);
        outcome = { kind: "denied", domain: request.domain };
      } else {
        const presentation =
          choice.credential === undefined
            ? undefined
            : await presentRequiredClaims({ credential: choice.credential, request, key: walletKey });
        await approveLogin({
          key: walletKey,
          request,
          matchCode: choice.matchCode,
          ...(presentation ? { presentation } : {}),
        });
        outcome = { kind: "approved", domain: request.domain };
      }
    } catch (error) {
      outcome = { kind: "error", error: describeError(error) };
    }
    if (current === attempt.current) setStep({ kind: "done", outcome });
  }

  useEffect(() => {
    if (linkedRequest === undefined || walletKey === null || openedLink.current === linkedRequest) return;
    openedLink.current = linkedRequest;
    void openRequest(linkedRequest);
  }, [linkedRequest, walletKey]);

  return (
    <div className="phone">
      <p className="phone__banner">
        <span aria-hidden="true">⚠</span>
        <span>
          <strong>Wallet simulator</strong> — for testing; a real wallet app does this on your phone.
        </span>
      </p>
      <div className="phone__body">
        <KeyPanel walletKey={walletKey} isStored={isStored} onCreateKey={createKey} onImportKey={importKey} />
        <PushPanel walletKey={walletKey} />
        {walletKey !== null && <CredentialsPanel walletKey={walletKey} store={credentials} />}
        {step.kind === "scan" && (
          <QrInput isBusy={step.isFetching || walletKey === null} onSubmit={(text) => void openRequest(text)} />
        )}
        {step.kind === "review" && walletKey !== null && (
          <RequestReview
            key={step.request.sessionId}
            request={step.request}
            pending={step.pending}
            onApprove={(matchCode, credential) =>
              void answer(step.request, credential === undefined ? { matchCode } : { matchCode, credential })
            }
            onDeny={() => void answer(step.request, "deny")}
            stored={credentials.credentials ?? []}
          />
        )}
        <div className="phone__live" aria-live="polite" aria-atomic="true">
          {step.kind === "done" && (
            <LoginResult
              outcome={step.outcome}
              onDone={() => {
                attempt.current += 1;
                setStep({ kind: "scan", isFetching: false });
              }}
            />
          )}
        </div>
      </div>
    </div>
  );
}
