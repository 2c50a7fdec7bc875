"use client";

import type { AppSummary } from "../../lib/protocol/data";
import { Button } from "../ui/button";
import { DateTime } from "../ui/date-time";
import { Spinner } from "../ui/spinner";
import styles from "./partners.module.css";

export interface AppListProps {
  apps: AppSummary[];
  /** Ids with a change in flight. */
  busyIds: ReadonlySet<string>;
  onToggle(app: AppSummary): void;
}

/** The owner's apps: id, address, created, last use, active, with disable / enable. */
export function AppList({ apps, busyIds, onToggle }: AppListProps) {
  if (apps.length === 0) return <p className="muted">No apps yet. Register one above.</p>;
  return (
    <div className={styles.tableWrap}>
      <table className={styles.table} aria-label="Your partner apps">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">App id</th>
            <th scope="col">Address</th>
            <th scope="col">Created</th>
            <th scope="col">Last use</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {apps.map((app) => {
            const isBusy = busyIds.has(app.id);
            return (
              <tr key={app.id} className={app.active ? undefined : styles.inactive} data-app-id={app.id}>
                <th scope="row">{app.name}</th>
                <td className={styles.id}>{app.id}</td>
                <td className={styles.id}>{app.address}</td>
                <td>
                  <DateTime iso={app.createdAt} />
                </td>
                <td>{app.lastUsedAt ? <DateTime iso={app.lastUsedAt} /> : "never"}</td>
                <td>
                  <span className={app.active ? styles.status : `${styles.status} ${styles.statusOff}`}>
                    {app.active ? "Active" : "Disabled"}
                  </span>
                </td>
                <td>
                  <Button
                    variant={app.active ? "danger" : "secondary"}
                    size="small"
                    onClick={() => onToggle(app)}
                    disabled={isBusy}
                    aria-label={`${app.active ? "Disable" : "Enable"} ${app.name}`}
                  >
                    {isBusy && <Spinner />}
                    {app.active ? "Disable" : "Enable"}
                  </Button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
