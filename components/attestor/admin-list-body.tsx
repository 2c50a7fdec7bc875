"use client";

import type { ReactNode } from "react";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";

/**
 * The body of an /attestor/admin list (useAdminList's `items` and `error`): the error, if any;
 * "Loading…" until the first answer; `emptyText` for an empty list; else `children(items)`.
 */
export function AdminListBody<T>({
  items,
  error,
  emptyText,
  children,
}: {
  items: T[] | null;
  error: string | null;
  emptyText: string;
  children: (items: T[]) => ReactNode;
}) {
  return (
    <>
      {error && (
        <Notice tone="error" role="alert">
          <p>{error}</p>
        </Notice>
      )}
      {items === null ? (
        !error && (
          <p className="row muted" role="status">
            <Spinner /> Loading…
          </p>
        )
      ) : items.length === 0 ? (
        <p className="muted">{emptyText}</p>
      ) : (
        children(items)
      )}
    </>
  );
}
