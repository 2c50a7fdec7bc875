"use client";

import { useEffect, useState } from "react";
import type { PresenceMember } from "../../lib/sdk/channels-client";
import { useChannelsClient } from "./use-channels-client";

const NO_MEMBERS: PresenceMember[] = [];

/** The members of presence channel `channel` (each user once), kept up to date while mounted. */
export function usePresence(channel: string | null): PresenceMember[] {
  const client = useChannelsClient();
  const [members, setMembers] = useState<PresenceMember[]>(NO_MEMBERS);

  useEffect(() => {
    if (client === null || channel === null) return;
    const subscription = client.subscribe(channel);
    // A shared subscription may already know its members.
    setMembers(subscription.members());
    const stop = subscription.onMembersChange(setMembers);
    return () => {
      stop();
      subscription.unsubscribe();
      setMembers(NO_MEMBERS);
    };
  }, [client, channel]);

  return members;
}
