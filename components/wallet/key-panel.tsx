"use client";

import { useId, useState } from "react";
import type { FormEvent } from "react";
import type { WalletKey } from "../../lib/wallet/index";
import { Button } from "../ui/button";
import { CopyButton } from "../ui/copy-button";
import { Notice } from "../ui/notice";
import { AddressAvatar } from "./address-avatar";
import { describeError } from "./describe-error";

export interface KeyPanelProps {
  walletKey: WalletKey | null;
  isStored: boolean;
  onCreateKey(): void;
  /** Throws for text that is not a private key. */
  onImportKey(privateKeyHex: string): void;
}

/** The simulator's account: its address, a fresh key, and import/export behind a disclosure. */
export function KeyPanel({ walletKey, isStored, onCreateKey, onImportKey }: KeyPanelProps) {
  const headingId = useId();
  const [importError, setImportError] = useState<string | null>(null);
  const [isImported, setIsImported] = useState(false);

  function handleImport(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      onImportKey(String(new FormData(form).get("privateKey") ?? ""));
      form.reset();
      setImportError(null);
      setIsImported(true);
    } catch (error) {
      setImportError(describeError(error).text);
      setIsImported(false);
    }
  }

  return (
    <section className="phone__section" aria-labelledby={headingId}>
      <h2 id={headingId}>Your account</h2>
      {walletKey === null ? (
        <p className="muted small">Loading the key…</p>
      ) : (
        <div className="stack">
          <div className="wallet-key">
            <AddressAvatar address={walletKey.address} />
            <div className="wallet-key__address">
              <span className="visually-hidden">Address: </span>
              <span className="address small" data-testid="wallet-address">
                {walletKey.address}
              </span>
            </div>
          </div>
          <div className="row">
            <CopyButton value={walletKey.address} label="Copy address" />
            <Button
              variant="secondary"
              size="small"
              onClick={() => {
                onCreateKey();
                setIsImported(false);
              }}
            >
              New key
            </Button>
          </div>
          {!isStored && (
            <Notice tone="warning">
              <p className="small">This browser blocks storage: the key is lost when the page closes.</p>
            </Notice>
          )}
          <details className="disclosure">
            <summary>Import or export a key</summary>
            <div className="disclosure__body stack">
              <form className="stack" onSubmit={handleImport}>
                <div className="field">
                  <label htmlFor={`${headingId}-import`}>Private key (hex)</label>
                  <input
                    id={`${headingId}-import`}
                    className="input mono"
                    name="privateKey"
                    required
                    autoComplete="off"
                    spellCheck={false}
                    placeholder="0x…"
                    aria-invalid={importError !== null}
                    aria-describedby={importError ? `${headingId}-import-error` : undefined}
                  />
                </div>
                {importError && (
                  <p id={`${headingId}-import-error`} className="small text-danger" role="alert">
                    {importError}
                  </p>
                )}
                {isImported && (
                  <p className="small text-success" role="status">
                    Key imported.
                  </p>
                )}
                <div>
                  <Button type="submit" variant="secondary" size="small">
                    Import key
                  </Button>
                </div>
              </form>
              <div className="field">
                <span className="field__label">Export</span>
                <p className="field__hint">
                  The same key signs in from the terminal: <code>npm run wallet -- login &apos;…&apos; --key …</code>
                </p>
                <div>
                  <CopyButton value={walletKey.privateKey} label="Copy private key" />
                </div>
              </div>
            </div>
          </details>
        </div>
      )}
    </section>
  );
}
