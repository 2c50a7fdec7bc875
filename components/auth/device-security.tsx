"use client";

/*
 * The dashboard's push login cards (docs/protocol.md sections 5.1 and 5.4): the user's paired
 * devices (name, address, paired, last seen) with rename and unpair, and the security events
 * ("This wasn't me" reports). Accessible names: region "Paired devices" with a list of the same
 * name; per device buttons "Rename <name>" and "Unpair <name>", the rename form's textbox
 * "New name for <name>" with buttons "Save" and "Cancel"; button "Refresh devices"; region
 * "Security events" with a list of the same name.
 */
import { useCallback, useEffect, useId, useState } from "react";
import type { FormEvent } from "react";
import Link from "next/link";
import type { DeviceView, SecurityEventView } from "../../lib/protocol/push";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { DateTime } from "../ui/date-time";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";

export interface DeviceSecurityProps {
  getAccessToken: () => Promise<string | null>;
  /** Origin of the app; the page's own origin when left out. */
  endpoint?: string;
}

const LIST_STYLE = { listStyle: "none", margin: 0, padding: 0, display: "grid", gap: "1rem" } as const;

/** The user's API with the Bearer token; an error body's message (or the status) as an Error. */
async function callApi<T>(
  getAccessToken: () => Promise<string | null>,
  url: string,
  init: RequestInit = {},
): Promise<T> {
  const token = await getAccessToken();
  if (token === null) throw new Error("Your session has ended; sign in again.");
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch {
    throw new Error("Could not reach the server. Check the connection and try again.");
  }
  const body = (await response.json().catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
  if (!response.ok) {
    const message = body?.error?.message;
    throw new Error(typeof message === "string" ? message : `The server answered ${response.status}.`);
  }
  return body as T;
}

export function DeviceSecurity({ getAccessToken, endpoint = "" }: DeviceSecurityProps) {
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [events, setEvents] = useState<SecurityEventView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isLoading, setIsLoading] = useState(false);

  const load = useCallback(async () => {
    setIsLoading(true);
    setError(null);
    try {
      const [d, e] = await Promise.all([
        callApi<{ devices: DeviceView[] }>(getAccessToken, `${endpoint}/api/devices`),
        callApi<{ events: SecurityEventView[] }>(getAccessToken, `${endpoint}/api/security-events`),
      ]);
      setDevices(d.devices);
      setEvents(e.events);
    } catch (err) {
      setError(err instanceof Error ? err.message : "Your devices could not be loaded.");
    } finally {
      setIsLoading(false);
    }
  }, [getAccessToken, endpoint]);

  useEffect(() => {
    void load();
  }, [load]);

  async function rename(device: DeviceView, name: string) {
    const { device: renamed } = await callApi<{ device: DeviceView }>(
      getAccessToken,
      `${endpoint}/api/devices/${encodeURIComponent(device.id)}`,
      { method: "PATCH", body: JSON.stringify({ name }) },
    );
    setDevices((shown) => shown?.map((d) => (d.id === renamed.id ? renamed : d)) ?? null);
  }

  async function unpair(device: DeviceView) {
    await callApi(getAccessToken, `${endpoint}/api/devices/${encodeURIComponent(device.id)}`, { method: "DELETE" });
    setDevices((shown) => shown?.filter((d) => d.id !== device.id) ?? null);
  }

  const deviceNames = new Map((devices ?? []).map((d) => [d.id, d.name]));

  return (
    <>
      <Card title="Paired devices" titleId="devices-heading">
        <div className="stack">
          <p className="muted small">
            Wallets that get sign-in requests pushed to them, with no QR code. Pair one from the{" "}
            <Link href="/wallet">wallet simulator</Link> or with <code>npm run wallet -- pair</code>.
          </p>
          {error && (
            <Notice tone="error" role="alert">
              <p>{error}</p>
            </Notice>
          )}
          {devices === null ? (
            !error && (
              <p className="muted small" role="status">
                <Spinner /> Loading your devices…
              </p>
            )
          ) : devices.length === 0 ? (
            <p className="muted small">No paired devices.</p>
          ) : (
            <ul aria-label="Paired devices" style={LIST_STYLE}>
              {devices.map((device) => (
                <DeviceItem
                  key={device.id}
                  device={device}
                  onRename={(name) => rename(device, name)}
                  onUnpair={() => unpair(device)}
                />
              ))}
            </ul>
          )}
          <div>
            <Button variant="secondary" size="small" onClick={() => void load()} disabled={isLoading}>
              {isLoading && <Spinner />}
              Refresh devices
            </Button>
          </div>
        </div>
      </Card>

      <Card title="Security events" titleId="security-events-heading">
        {events === null ? null : events.length === 0 ? (
          <p className="muted small">
            No reports. A &ldquo;This wasn&apos;t me&rdquo; answer on a device is listed here.
          </p>
        ) : (
          <ul aria-label="Security events" style={LIST_STYLE}>
            {events.map((event) => (
              <li key={event.id} className="stack" style={{ gap: "0.15rem" }}>
                <strong>
                  {event.kind === "push_not_me" ? "“This wasn’t me”: a sign-in request was refused" : event.kind}
                </strong>
                <span className="small muted">
                  <DateTime iso={event.createdAt} />
                  {event.deviceId !== null && ` · on ${deviceNames.get(event.deviceId) ?? "an unpaired device"}`}
                </span>
                <span className="small">
                  Requested from {event.ip ?? "an unknown IP"}
                  {event.userAgent ? ` (${event.userAgent})` : ""}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

function DeviceItem({
  device,
  onRename,
  onUnpair,
}: {
  device: DeviceView;
  onRename(name: string): Promise<void>;
  onUnpair(): Promise<void>;
}) {
  const id = useId();
  const [isEditing, setIsEditing] = useState(false);
  const [busy, setBusy] = useState<"rename" | "unpair" | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(kind: "rename" | "unpair", task: () => Promise<void>) {
    setBusy(kind);
    setError(null);
    try {
      await task();
      if (kind === "rename") setIsEditing(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : "That did not work.");
    } finally {
      setBusy(null);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name") ?? "").trim();
    if (name) void run("rename", () => onRename(name));
  }

  return (
    <li className="stack" style={{ gap: "0.4rem" }} aria-labelledby={`${id}-name`}>
      <strong id={`${id}-name`}>{device.name}</strong>
      <dl className="details-list small">
        <dt>Address</dt>
        <dd className="address">{device.address}</dd>
        <dt>Paired</dt>
        <dd>
          <DateTime iso={device.createdAt} />
        </dd>
        <dt>Last seen</dt>
        <dd>{device.lastSeenAt ? <DateTime iso={device.lastSeenAt} /> : "never"}</dd>
      </dl>
      {isEditing ? (
        <form className="row" onSubmit={submit}>
          <label className="visually-hidden" htmlFor={`${id}-rename`}>
            New name for {device.name}
          </label>
          <input
            id={`${id}-rename`}
            className="input"
            name="name"
            defaultValue={device.name}
            required
            maxLength={64}
            autoComplete="off"
          />
          <Button type="submit" size="small" disabled={busy !== null}>
            {busy === "rename" && <Spinner />}
            Save
          </Button>
          <Button variant="ghost" size="small" onClick={() => setIsEditing(false)} disabled={busy !== null}>
            Cancel
          </Button>
        </form>
      ) : (
        <div className="row">
          <Button
            variant="secondary"
            size="small"
            onClick={() => setIsEditing(true)}
            aria-label={`Rename ${device.name}`}
          >
            Rename
          </Button>
          <Button
            variant="danger"
            size="small"
            onClick={() => void run("unpair", onUnpair)}
            disabled={busy !== null}
            aria-label={`Unpair ${device.name}`}
          >
            {busy === "unpair" && <Spinner />}
            Unpair
          </Button>
        </div>
      )}
      {error && (
        <p className="small text-danger" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
