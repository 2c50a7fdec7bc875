"use client";

import { useCallback, useEffect } from "react";
import { ATTESTOR_API_PATHS, type AdminRequestView } from "../../lib/protocol/attestor";
import { useSession, useSessionStore } from "../auth/use-session";
import { Button, ButtonLink } from "../ui/button";
import { Card } from "../ui/card";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import { SESSION_ENDED } from "./admin-api";
import { AttestorRecordsAdmin } from "./attestor-records-admin";
import { AdminListBody } from "./admin-list-body";
import { useAdminList } from "./use-admin-list";

type Action = "approve" | "refuse" | "revoke";

function RequestRow({ request, busy, onAct }: { request: AdminRequestView; busy: boolean; onAct(a: Action): void }) {
  return (
    <li className="stack" style={{ gap: "0.3rem" }} data-testid="attestor-request">
      <p style={{ margin: 0 }}>
        <strong>{request.claims.join(", ")}</strong> · {request.status}
        {request.credentialStatus ? ` · credential ${request.credentialStatus}` : ""}
      </p>
      <p className="small muted address" style={{ margin: 0 }}>
        {request.address}
        {request.email ? ` · email ${request.email}` : ""} · {new Date(request.createdAt).toLocaleString()}
      </p>
      <div className="row">
        {request.status === "pending" && (
          <>
            <Button size="small" disabled={busy} onClick={() => onAct("approve")}>
              Approve
            </Button>
            <Button size="small" variant="danger" disabled={busy} onClick={() => onAct("refuse")}>
              Refuse
            </Button>
          </>
        )}
        {request.status === "issued" && request.credentialStatus === "valid" && (
          <Button size="small" variant="danger" disabled={busy} onClick={() => onAct("revoke")}>
            Revoke
          </Button>
        )}
        {busy && <Spinner />}
      </div>
    </li>
  );
}

/** /attestor/admin: an admin approves or refuses pending credential requests and revokes issued credentials. */
export function AttestorAdmin() {
  const store = useSessionStore();
  const status = useSession((state) => state.status);

  useEffect(() => {
    void store.getState().ensureSession();
  }, [store]);

  const token = useCallback(async () => {
    const value = await store.getState().getAccessToken();
    if (value === null) throw new Error(SESSION_ENDED);
    return value;
  }, [store]);

  const {
    items: requests,
    error,
    busyId,
    act,
  } = useAdminList<AdminRequestView, Action>({
    token,
    path: ATTESTOR_API_PATHS.adminRequests,
    listKey: "requests",
    itemKey: "request",
    loadError: "The requests could not be loaded.",
    active: status === "signed-in",
    // New requests arrive while the page is open; a light poll keeps the list current.
    pollMs: 5_000,
  });

  return (
    <div className="page stack">
      <div>
        <span className="eyebrow">Attestor</span>
        <h1>Attestor admin</h1>
        <p className="lead">Approve or refuse what waits for a person, and revoke credentials already issued.</p>
      </div>
      {status === "signed-out" ? (
        <Notice tone="info">
          <p>Sign in with an admin&apos;s wallet (its address in ADMIN_ADDRESSES).</p>
          <p style={{ marginTop: "0.75rem" }}>
            <ButtonLink href="/" size="small">
              Sign in
            </ButtonLink>
          </p>
        </Notice>
      ) : (
        <Card title="Credential requests" titleId="requests-heading">
          <AdminListBody items={requests} error={error} emptyText="No requests yet.">
            {(requests) => (
              <ul className="stack" style={{ listStyle: "none", padding: 0, gap: "1rem" }}>
                {requests.map((request) => (
                  <RequestRow
                    key={request.id}
                    request={request}
                    busy={busyId === request.id}
                    onAct={(action) => void act(request, action)}
                  />
                ))}
              </ul>
            )}
          </AdminListBody>
        </Card>
      )}
      {status === "signed-in" && <AttestorRecordsAdmin token={token} />}
    </div>
  );
}
