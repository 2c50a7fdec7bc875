"use client";

import type { CSSProperties } from "react";
import type { PresenceMember } from "../../lib/sdk/channels-client";
import { Card } from "../ui/card";
import { shortAddress } from "./short-address";
import { usePresence } from "./use-presence";

export interface OnlineNowProps {
  /** A presence channel, e.g. `presence-dashboard`. */
  channel: string;
  /** The signed-in user's id, marked "you" in the list. */
  currentUserId: string;
}

const LIST_STYLE: CSSProperties = { listStyle: "none", margin: 0, padding: 0, display: "grid", gap: "0.5rem" };
const ITEM_STYLE: CSSProperties = { display: "flex", alignItems: "center", gap: "0.5rem" };
const DOT_STYLE: CSSProperties = {
  width: "0.5rem",
  height: "0.5rem",
  borderRadius: "50%",
  background: "var(--success)",
  flex: "none",
};
const YOU_STYLE: CSSProperties = { fontSize: "0.8rem", color: "var(--text-muted)" };

function readAddress(member: PresenceMember): string | undefined {
  const info = member.info;
  if (typeof info !== "object" || info === null) return undefined;
  const address = (info as { address?: unknown }).address;
  return typeof address === "string" ? address : undefined;
}

/** Who else has this presence channel open right now: each user once, you first. */
export function OnlineNow({ channel, currentUserId }: OnlineNowProps) {
  const members = usePresence(channel);
  const sorted = [...members].sort((a, b) => {
    if (a.id === currentUserId) return -1;
    if (b.id === currentUserId) return 1;
    return a.id.localeCompare(b.id);
  });

  return (
    <Card title="Online now" titleId="online-now-heading">
      {sorted.length === 0 ? (
        <p className="muted" role="status">
          Connecting…
        </p>
      ) : (
        <ul className="member-list" style={LIST_STYLE} aria-labelledby="online-now-heading" data-testid="online-now">
          {sorted.map((member) => {
            const address = readAddress(member);
            const isYou = member.id === currentUserId;
            return (
              <li key={member.id} className="member-list__item" style={ITEM_STYLE} data-user-id={member.id}>
                <span className="member-list__dot" style={DOT_STYLE} aria-hidden="true" />
                <span className="address" title={address}>
                  {address ? shortAddress(address) : member.id}
                </span>
                {isYou && (
                  <span className="member-list__you" style={YOU_STYLE}>
                    (you)
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <p className="muted member-list__count" style={{ marginTop: "1rem", marginBottom: 0 }}>
        {sorted.length === 1 ? "1 person online" : `${sorted.length} people online`}
      </p>
    </Card>
  );
}
