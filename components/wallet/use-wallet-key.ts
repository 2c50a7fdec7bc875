"use client";

import { useCallback, useEffect, useState } from "react";
import { createWalletKey, importWalletKey } from "../../lib/wallet/index";
import type { WalletKey } from "../../lib/wallet/index";

// The simulator's key is a test key in plain localStorage, as a development wallet may
// be; a real wallet keeps it in the phone's secure hardware.
const STORAGE_KEY = "wallet-login:simulator-key";

export interface WalletKeyState {
  /** `null` until the stored key is loaded (after mount: localStorage is browser-only). */
  walletKey: WalletKey | null;
  /** Whether the key survives a reload (false where storage is blocked). */
  isStored: boolean;
  createKey(): void;
  /** Throws a WalletError (`invalid_key`) for text that is not a private key. */
  importKey(privateKeyHex: string): void;
}

function saveKey(key: WalletKey): boolean {
  try {
    localStorage.setItem(STORAGE_KEY, key.privateKey);
    return true;
  } catch {
    return false;
  }
}

function loadKey(): WalletKey | null {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === null ? null : importWalletKey(stored);
  } catch {
    return null;
  }
}

/** The simulator's key: made on the first visit, kept in localStorage, replaced on request. */
export function useWalletKey(): WalletKeyState {
  const [walletKey, setWalletKey] = useState<WalletKey | null>(null);
  const [isStored, setIsStored] = useState(true);

  const keepKey = useCallback((key: WalletKey) => {
    setIsStored(saveKey(key));
    setWalletKey(key);
  }, []);

  useEffect(() => {
    // Reads storage again on StrictMode's second run, so the key made by the first is kept.
    const stored = loadKey();
    if (stored) setWalletKey(stored);
    else keepKey(createWalletKey());
  }, [keepKey]);

  return {
    walletKey,
    isStored,
    createKey: useCallback(() => keepKey(createWalletKey()), [keepKey]),
    importKey: useCallback(
      (privateKeyHex: string) => {
        keepKey(importWalletKey(privateKeyHex));
      },
      [keepKey],
    ),
  };
}
