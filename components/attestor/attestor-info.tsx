"use client";

import { useEffect, useState } from "react";
import { ATTESTOR_API_PATHS, type AttestorMetadata } from "../../lib/protocol/attestor";
import { ButtonLink } from "../ui/button";
import { Card } from "../ui/card";

/** /attestor: the demo attestor's public page (docs/protocol.md section 6). */
export function AttestorInfo() {
  const [metadata, setMetadata] = useState<AttestorMetadata | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    fetch(ATTESTOR_API_PATHS.metadata)
      .then((response) => (response.ok ? (response.json() as Promise<AttestorMetadata>) : Promise.reject()))
      .then(setMetadata, () => setFailed(true));
  }, []);

  return (
    <div className="page stack">
      <div>
        <span className="eyebrow">Attestor</span>
        <h1>{metadata?.name ?? "Demo attestor"}</h1>
        <p className="lead">
          It checks something about you and issues it to your wallet as a verifiable credential (an SD-JWT VC bound to
          your wallet&apos;s key, every claim shareable on its own), delivered encrypted to your wallet alone. Sites
          that trust it can then ask your wallet for a claim when you sign in.
        </p>
      </div>
      <Card title="What it issues" titleId="claims-heading">
        {failed ? (
          <p>The attestor is not running on this server (DEMO_ATTESTOR=false).</p>
        ) : (
          <ul>
            <li>
              <strong>member_since</strong>: the date your wallet&apos;s address first signed in here, at once.
            </li>
            <li>
              <strong>verified_email</strong>: an email address you type in, once an admin approves it.
            </li>
          </ul>
        )}
        {metadata && (
          <p className="small muted">
            Issuer <code>{metadata.iss}</code>
          </p>
        )}
        <p>
          <ButtonLink href="/wallet">Request a credential in the wallet simulator</ButtonLink>
        </p>
      </Card>
    </div>
  );
}
