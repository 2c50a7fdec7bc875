"use client";

import { useCallback, useEffect, useState } from "react";
import type { WalletKey } from "../../lib/wallet/index";
import {
  deleteStoredCredential,
  listStoredCredentials,
  putStoredCredential,
  type StoredCredential,
} from "./credential-db";

export interface CredentialsState {
  /** null while loading (or without a key). */
  credentials: StoredCredential[] | null;
  error: string | null;
  add(item: Omit<StoredCredential, "address" | "receivedAt">): Promise<void>;
  remove(id: string): Promise<void>;
}

/** The credentials this browser keeps for the simulator's current key (IndexedDB). */
export function useCredentials(walletKey: WalletKey | null): CredentialsState {
  const [credentials, setCredentials] = useState<StoredCredential[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const address = walletKey?.address ?? null;

  const reload = useCallback(async () => {
    if (address === null) return;
    try {
      setCredentials(await listStoredCredentials(address));
      setError(null);
    } catch {
      setError("This browser does not let the page keep credentials (IndexedDB is blocked).");
      setCredentials([]);
    }
  }, [address]);

  useEffect(() => {
    setCredentials(null);
    void reload();
  }, [reload]);

  const add = useCallback(
    async (item: Omit<StoredCredential, "address" | "receivedAt">) => {
      if (address === null) return;
      await putStoredCredential({ ...item, address, receivedAt: new Date().toISOString() });
      await reload();
    },
    [address, reload],
  );

  const remove = useCallback(
    async (id: string) => {
      await deleteStoredCredential(id);
      await reload();
    },
    [reload],
  );

  return { credentials, error, add, remove };
}
