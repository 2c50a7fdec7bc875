"use client";

import { useCallback, useEffect, useState } from "react";
import { adminCall } from "./admin-api";

/** What useAdminList needs to list one kind of admin record and act on one of them. */
export interface AdminListOptions {
  /** The admin's access token; throws with a sentence when the session has ended. */
  token(): Promise<string>;
  /** The list route; an action is a POST to `${path}/${id}/${action}`. */
  path: string;
  /** The list answer's field (`{ [listKey]: T[] }`) and an action answer's field (`{ [itemKey]: T }`). */
  listKey: string;
  itemKey: string;
  /** Shown when a load fails without a sentence of its own. */
  loadError: string;
  /** Load only while true (default true). */
  active?: boolean;
  /** Reload this often while active; no poll when absent. */
  pollMs?: number;
}

/**
 * The list of an /attestor/admin section: loads it (and polls, when asked), runs an action on one record
 * and puts the record the server answers in its place. `items` is null until the first load answers.
 */
export function useAdminList<T extends { id: string }, A extends string>(options: AdminListOptions) {
  const { token, path, listKey, itemKey, loadError, active = true, pollMs } = options;
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const list = await adminCall<Record<string, T[]>>(await token(), path);
      setItems(list[listKey]!);
      setError(null);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : loadError);
    }
  }, [token, path, listKey, loadError]);

  useEffect(() => {
    if (!active) return;
    void load();
    if (pollMs === undefined) return;
    const timer = setInterval(() => void load(), pollMs);
    return () => clearInterval(timer);
  }, [active, load, pollMs]);

  async function act(target: T, action: A) {
    setBusyId(target.id);
    try {
      const answer = await adminCall<Record<string, T>>(
        await token(),
        `${path}/${encodeURIComponent(target.id)}/${action}`,
        "POST",
      );
      setItems((list) => list?.map((item) => (item.id === target.id ? answer[itemKey]! : item)) ?? null);
      setError(null);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : "That did not work.");
    } finally {
      setBusyId(null);
    }
  }

  return { items, error, busyId, act };
}
