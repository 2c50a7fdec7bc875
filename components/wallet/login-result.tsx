import type { ReactNode } from "react";
import { Button } from "../ui/button";
import type { DescribedError } from "./describe-error";

export type LoginOutcome =
  { kind: "approved"; domain: string } | { kind: "denied"; domain: string } | { kind: "error"; error: DescribedError };

export interface LoginResultProps {
  outcome: LoginOutcome;
  onDone(): void;
}

/** How a login ended, told plainly, with the way to the next one. */
export function LoginResult({ outcome, onDone }: LoginResultProps) {
  let icon: string;
  let title: string;
  let body: ReactNode;
  switch (outcome.kind) {
    case "approved":
      icon = "✓";
      title = "Approved";
      body = <p>You are signed in on {outcome.domain}. The other screen continues by itself.</p>;
      break;
    case "denied":
      icon = "–";
      title = "Denied";
      body = <p>You refused the sign-in to {outcome.domain}. Nothing was signed.</p>;
      break;
    case "error":
      icon = "!";
      title = outcome.error.title;
      body = (
        <>
          <p>{outcome.error.text}</p>
          <p className="result__code">Error code: {outcome.error.code}</p>
        </>
      );
      break;
  }
  return (
    <section className={`phone__section result result--${outcome.kind}`}>
      <span className="result__icon" aria-hidden="true">
        {icon}
      </span>
      <h3>{title}</h3>
      {body}
      <Button variant="secondary" onClick={onDone} className="result__done">
        Scan another code
      </Button>
    </section>
  );
}
