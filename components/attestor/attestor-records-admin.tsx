"use client";

import { ATTESTOR_API_PATHS, type AdminAttestorView, type AttestorRecordAction } from "../../lib/protocol/attestor";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { Spinner } from "../ui/spinner";
import { AdminListBody } from "./admin-list-body";
import { useAdminList } from "./use-admin-list";

function AttestorRow({
  attestor,
  busy,
  onAct,
}: {
  attestor: AdminAttestorView;
  busy: boolean;
  onAct(action: AttestorRecordAction): void;
}) {
  return (
    <li className="stack" style={{ gap: "0.3rem" }} data-testid="attestor-record">
      <p style={{ margin: 0 }}>
        <strong>{attestor.name}</strong> · {attestor.trusted ? "trusted" : "not trusted"} ·{" "}
        {attestor.hosted ? "hosted here" : "outside"}
      </p>
      <p className="small muted address" style={{ margin: 0 }}>
        {attestor.issuer} · key {attestor.kid}
        {attestor.previousKids.length > 0 ? ` (${attestor.previousKids.length} previous)` : ""} · since{" "}
        {new Date(attestor.createdAt).toLocaleDateString()}
      </p>
      <div className="row">
        {attestor.trusted ? (
          <Button
            size="small"
            variant="danger"
            disabled={busy}
            aria-label={`Distrust ${attestor.name}`}
            onClick={() => onAct("distrust")}
          >
            Distrust
          </Button>
        ) : (
          <Button size="small" disabled={busy} aria-label={`Trust ${attestor.name}`} onClick={() => onAct("trust")}>
            Trust
          </Button>
        )}
        {attestor.hosted && (
          <Button
            size="small"
            variant="secondary"
            disabled={busy}
            aria-label={`Rotate key of ${attestor.name}`}
            onClick={() => onAct("rotate-key")}
          >
            Rotate key
          </Button>
        )}
        {busy && <Spinner />}
      </div>
    </li>
  );
}

/** The attestor records section of /attestor/admin: trust, distrust, rotate a hosted attestor's key. */
export function AttestorRecordsAdmin({ token }: { token(): Promise<string> }) {
  const {
    items: attestors,
    error,
    busyId,
    act,
  } = useAdminList<AdminAttestorView, AttestorRecordAction>({
    token,
    path: ATTESTOR_API_PATHS.adminAttestors,
    listKey: "attestors",
    itemKey: "attestor",
    loadError: "The attestors could not be loaded.",
  });

  return (
    <Card title="Attestors" titleId="attestors-heading">
      <p className="small muted">
        Logins accept credentials of trusted attestors only; a change holds on every node within seconds.
      </p>
      <AdminListBody items={attestors} error={error} emptyText="No attestor records.">
        {(attestors) => (
          <ul
            className="stack"
            style={{ listStyle: "none", padding: 0, gap: "1rem" }}
            aria-labelledby="attestors-heading"
          >
            {attestors.map((attestor) => (
              <AttestorRow
                key={attestor.id}
                attestor={attestor}
                busy={busyId === attestor.id}
                onAct={(action) => void act(attestor, action)}
              />
            ))}
          </ul>
        )}
      </AdminListBody>
    </Card>
  );
}
