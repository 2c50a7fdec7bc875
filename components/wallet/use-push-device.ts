"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { WalletError, connectDevice, pairDevice } from "../../lib/wallet/index";
import type { DeviceConnection, DeviceStatus, WalletKey } from "../../lib/wallet/index";
import type { PushClosedEvent, PushRequest } from "../../lib/protocol/push";
import { describeError } from "./describe-error";
import type { DescribedError } from "./describe-error";

// Only the device id is kept, per address: it is not a secret (the key authenticates the socket),
// and a real wallet keeps its registration the same way. Nothing else of the pairing is stored.
const DEVICE_STORAGE_PREFIX = "wallet-login:simulator-device:";

function storageKey(address: string) {
  return `${DEVICE_STORAGE_PREFIX}${address.toLowerCase()}`;
}
function readDeviceId(address: string): string | null {
  try {
    return localStorage.getItem(storageKey(address));
  } catch {
    return null;
  }
}
function writeDeviceId(address: string, deviceId: string | null) {
  try {
    if (deviceId === null) localStorage.removeItem(storageKey(address));
    else localStorage.setItem(storageKey(address), deviceId);
  } catch {
    // Storage blocked: the pairing holds for this page only.
  }
}

export type PushAnswer = "approve" | "deny" | "not-me";

export interface IncomingPush {
  request: PushRequest;
  /** The answer on its way, if any. */
  pending: PushAnswer | null;
}

export type PushOutcome =
  | { kind: "approved" | "denied" | "not-me"; domain: string }
  | { kind: "closed"; state: string; reason?: string }
  | { kind: "error"; error: DescribedError };

export interface PushDeviceState {
  /** `unpaired`: no device for this key here (never paired, or unpaired from the dashboard). */
  status: DeviceStatus | "unpaired";
  isPairing: boolean;
  pairError: DescribedError | null;
  incoming: IncomingPush | null;
  outcome: PushOutcome | null;
  pair(name: string): Promise<void>;
  answer(answer: PushAnswer, matchCode?: string): Promise<void>;
  dismissOutcome(): void;
}

/** The simulator as a paired device: pairing, the authenticated socket, and the request on screen. */
export function usePushDevice(walletKey: WalletKey | null): PushDeviceState {
  // With the address it was read for: a key just replaced must not connect with the last key's device.
  const [paired, setPaired] = useState<{ address: string; deviceId: string | null } | null>(null);
  const [status, setStatus] = useState<PushDeviceState["status"]>("unpaired");
  const [isPairing, setIsPairing] = useState(false);
  const [pairError, setPairError] = useState<DescribedError | null>(null);
  const [incoming, setIncomingState] = useState<IncomingPush | null>(null);
  const [outcome, setOutcome] = useState<PushOutcome | null>(null);
  const incomingRef = useRef<IncomingPush | null>(null);
  const connectionRef = useRef<DeviceConnection | null>(null);

  const setIncoming = useCallback((next: IncomingPush | null) => {
    incomingRef.current = next;
    setIncomingState(next);
  }, []);

  useEffect(() => {
    // A new key is another account: its own pairing, if it has one here.
    setPaired(walletKey === null ? null : { address: walletKey.address, deviceId: readDeviceId(walletKey.address) });
    setIncoming(null);
    setOutcome(null);
  }, [walletKey, setIncoming]);

  useEffect(() => {
    const deviceId = paired?.address === walletKey?.address ? paired?.deviceId : null;
    if (walletKey === null || deviceId === null || deviceId === undefined) {
      setStatus("unpaired");
      return;
    }
    const seen = new Set<string>();
    const connection: DeviceConnection = connectDevice({
      endpoint: window.location.origin,
      key: walletKey,
      deviceId,
      onRequest: ({ sessionId }) => {
        // Each socket gets a push once, a new socket after a reconnect gets it again: once is shown.
        if (seen.has(sessionId)) return;
        if (seen.size >= 100) seen.clear();
        seen.add(sessionId);
        // On screen = opened: the page hears `fetched`, and the context says whether the IPs match.
        connection.open(sessionId).then(
          (request) => {
            setIncoming({ request, pending: null });
            setOutcome(null);
          },
          (error: unknown) => setOutcome({ kind: "error", error: describeError(error) }),
        );
      },
      onClosed: (event: PushClosedEvent) => {
        const shown = incomingRef.current;
        // The answer this device is sending reports itself.
        if (shown?.request.sessionId !== event.sessionId || shown.pending !== null) return;
        setIncoming(null);
        setOutcome({ kind: "closed", state: event.state, ...(event.reason ? { reason: event.reason } : {}) });
      },
      onStatus: (next) => {
        if (next === "closed") return;
        setStatus(next);
        if (next === "unpaired") {
          writeDeviceId(walletKey.address, null);
          setPaired({ address: walletKey.address, deviceId: null });
          setIncoming(null);
        }
      },
    });
    connectionRef.current = connection;
    return () => {
      connectionRef.current = null;
      connection.close();
    };
  }, [walletKey, paired, setIncoming]);

  const pair = useCallback(
    async (name: string) => {
      if (walletKey === null) return;
      setIsPairing(true);
      setPairError(null);
      try {
        const device = await pairDevice({ endpoint: window.location.origin, key: walletKey, name });
        writeDeviceId(walletKey.address, device.id);
        setPaired({ address: walletKey.address, deviceId: device.id });
      } catch (error) {
        setPairError(describeError(error));
      } finally {
        setIsPairing(false);
      }
    },
    [walletKey],
  );

  const answer = useCallback(
    async (choice: PushAnswer, matchCode = "") => {
      const shown = incomingRef.current;
      const connection = connectionRef.current;
      if (shown === null || shown.pending !== null || connection === null) return;
      const { request } = shown;
      setIncoming({ request, pending: choice });
      let result: PushOutcome;
      try {
        if (choice === "approve") {
          await connection.approve(request, matchCode);
          result = { kind: "approved", domain: request.domain };
        } else {
          await connection.deny(request.sessionId, { notMe: choice === "not-me" });
          result = { kind: choice === "deny" ? "denied" : "not-me", domain: request.domain };
        }
      } catch (error) {
        // A malformed number is only a typo: nothing was sent, the request stays open.
        if (error instanceof WalletError && error.code === "invalid_match_code") {
          setIncoming({ request, pending: null });
          setOutcome({ kind: "error", error: describeError(error) });
          return;
        }
        result = { kind: "error", error: describeError(error) };
      }
      if (incomingRef.current?.request.sessionId === request.sessionId) setIncoming(null);
      setOutcome(result);
    },
    [setIncoming],
  );

  return {
    status,
    isPairing,
    pairError,
    incoming,
    outcome,
    pair,
    answer,
    dismissOutcome: useCallback(() => setOutcome(null), []),
  };
}
