"use client";

import { useCallback, useRef, useState } from "react";
import type { CSSProperties } from "react";
import { PRIVATE_USER_CHANNEL_PREFIX } from "../../lib/protocol/channels";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { DateTime } from "../ui/date-time";
import { Notice } from "../ui/notice";
import { Spinner } from "../ui/spinner";
import { useChannel } from "./use-channel";

export interface NotificationsCardProps {
  /** The signed-in user's id: the card listens on `private-user-<userId>`. */
  userId: string;
  getAccessToken: () => Promise<string | null>;
  /** Origin of the app; the page's own origin when left out. */
  endpoint?: string;
}

interface ReceivedNotification {
  key: number;
  title: string;
  body: string;
  at: string;
}

const LIST_STYLE: CSSProperties = { listStyle: "none", margin: 0, padding: 0, display: "grid", gap: "0.75rem" };
const ITEM_STYLE: CSSProperties = { display: "grid", gap: "0.15rem" };

const MAX_SHOWN = 20;

function readNotification(data: unknown, key: number): ReceivedNotification | null {
  if (typeof data !== "object" || data === null) return null;
  const { title, body, at } = data as Record<string, unknown>;
  if (typeof title !== "string") return null;
  return {
    key,
    title,
    body: typeof body === "string" ? body : "",
    at: typeof at === "string" ? at : new Date().toISOString(),
  };
}

/** Notifications pushed to this user's private channel, shown as they arrive. */
export function NotificationsCard({ userId, getAccessToken, endpoint = "" }: NotificationsCardProps) {
  const [notifications, setNotifications] = useState<ReceivedNotification[]>([]);
  const [isSending, setIsSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);

  const nextKey = useRef(0);

  const onNotification = useCallback((data: unknown) => {
    const notification = readNotification(data, nextKey.current++);
    if (notification) setNotifications((shown) => [notification, ...shown].slice(0, MAX_SHOWN));
  }, []);
  const channel = useChannel(`${PRIVATE_USER_CHANNEL_PREFIX}${userId}`, "notification", onNotification);

  async function sendTest() {
    setIsSending(true);
    setSendError(null);
    try {
      const token = await getAccessToken();
      if (token === null) throw new Error("Your session has ended; sign in again.");
      const response = await fetch(`${endpoint}/api/notifications/test`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
        const message = body?.error?.message;
        throw new Error(typeof message === "string" ? message : `The server answered ${response.status}.`);
      }
    } catch (error) {
      setSendError(error instanceof Error ? error.message : "The notification could not be sent.");
    } finally {
      setIsSending(false);
    }
  }

  return (
    <Card title="Notifications" titleId="notifications-heading">
      <div className="stack" style={{ gap: "1rem" }}>
        <div>
          <Button variant="secondary" size="small" onClick={sendTest} disabled={isSending || !channel.isSubscribed}>
            {isSending && <Spinner />}
            Send me a test notification
          </Button>
          {!channel.isSubscribed && !channel.error && (
            <span className="muted" role="status" style={{ marginLeft: "0.75rem" }}>
              Connecting…
            </span>
          )}
        </div>
        {channel.error && (
          <Notice tone="warning" role="alert">
            <p>Live notifications are unavailable: {channel.error.message}</p>
          </Notice>
        )}
        {sendError && (
          <Notice tone="error" role="alert">
            <p>{sendError}</p>
          </Notice>
        )}
        <ul className="notification-list" style={LIST_STYLE} aria-labelledby="notifications-heading" aria-live="polite">
          {notifications.map((notification) => (
            <li key={notification.key} className="notification-list__item" style={ITEM_STYLE}>
              <strong>{notification.title}</strong>
              {notification.body && <span>{notification.body}</span>}
              <span className="muted notification-list__time">
                <DateTime iso={notification.at} />
              </span>
            </li>
          ))}
        </ul>
        {notifications.length === 0 && <p className="muted">No notifications yet. They appear here as they arrive.</p>}
      </div>
    </Card>
  );
}
