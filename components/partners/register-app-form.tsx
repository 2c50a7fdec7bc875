"use client";

import { useId, useState } from "react";
import type { FormEvent } from "react";
import { APP_NAME_MAX_LENGTH } from "../../lib/protocol/data";
import type { CreateAppBody } from "../../lib/protocol/data";
import { Button } from "../ui/button";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import styles from "./partners.module.css";

export interface RegisterAppFormProps {
  /** Resolves when registered; rejects with a message to show. */
  onRegister(body: CreateAppBody): Promise<void>;
}

/** Name, and optionally an address the partner already holds the key of. */
export function RegisterAppForm({ onRegister }: RegisterAppFormProps) {
  const nameId = useId();
  const addressId = useId();
  const addressHintId = useId();
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [isBusy, setIsBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmedAddress = address.trim();
    if (trimmedAddress !== "" && !/^0x[0-9a-fA-F]{40}$/.test(trimmedAddress)) {
      setError("An address is 0x followed by 40 hex digits.");
      return;
    }
    setIsBusy(true);
    setError(null);
    try {
      await onRegister(trimmedAddress === "" ? { name: name.trim() } : { name: name.trim(), address: trimmedAddress });
      setName("");
      setAddress("");
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : "The app could not be registered.");
    } finally {
      setIsBusy(false);
    }
  }

  return (
    <form className={styles.form} onSubmit={submit} aria-describedby={error ? `${nameId}-error` : undefined}>
      <div className="field">
        <label htmlFor={nameId}>App name</label>
        <input
          id={nameId}
          className="input"
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
          maxLength={APP_NAME_MAX_LENGTH}
          autoComplete="off"
          placeholder="Nightly export"
        />
      </div>
      <div className="field">
        <label htmlFor={addressId}>Existing address (optional)</label>
        <input
          id={addressId}
          className="input mono"
          value={address}
          onChange={(event) => setAddress(event.target.value)}
          aria-describedby={addressHintId}
          autoComplete="off"
          spellCheck={false}
          placeholder="0x…"
        />
        <p className="field__hint" id={addressHintId}>
          Leave it empty and the server makes a key pair for the app; its private key is shown to you once.
        </p>
      </div>
      {error && (
        <Notice tone="error" role="alert">
          <p id={`${nameId}-error`}>{error}</p>
        </Notice>
      )}
      <div>
        <Button type="submit" disabled={isBusy || name.trim() === ""}>
          {isBusy && <Spinner />}
          Register app
        </Button>
      </div>
    </form>
  );
}
