/*
 * Who may subscribe to which channel: the one place to change it.
 *
 * `POST /api/channel-auth` asks this function, for a signed-in user, before it signs
 * anything; the socket then only checks the signature. The rules shipped here
 * (docs/protocol.md section 2):
 * - `private-user-<id>`: only the user whose id is <id>.
 * - `presence-*`: any signed-in user, as the member {user_id: <user id>, user_info:
 *   {address}}; every other member of the channel sees that object.
 * - `private-wallet-*`: nobody here; a wallet's own channel is signed by the attestor's
 *   channel auth alone, for a socket that proved the wallet's key (server/attestor/).
 * - `private-*`: any signed-in user.
 * - Any other name is public: subscribing needs no auth. Signing one anyway is harmless
 *   (a subscribe ignores auth on public channels) and is what Pusher's SDKs do.
 * An integrator changes the rules here (membership of a team's channels, roles, what
 * user_info discloses) and nowhere else.
 */
import { PRIVATE_USER_CHANNEL_PREFIX, readChannelKind } from "../../lib/protocol/channels";
import { WALLET_CHANNEL_PREFIX } from "../../lib/protocol/attestor";

export interface ChannelUser {
  userId: string;
  /** EIP-55 checksummed. */
  address: string;
}

/** The presence member to sign, serialised as JSON in exactly this key order. */
export interface PresenceMember {
  user_id: string;
  user_info: { address: string };
}

export type ChannelAccess = { ok: true; presence?: PresenceMember } | { ok: false; code: "forbidden" };

export function decideChannelAccess(user: ChannelUser, channel: string): ChannelAccess {
  if (channel.startsWith(WALLET_CHANNEL_PREFIX)) return { ok: false, code: "forbidden" };
  if (channel.startsWith(PRIVATE_USER_CHANNEL_PREFIX)) {
    const owner = channel.slice(PRIVATE_USER_CHANNEL_PREFIX.length);
    return owner === user.userId ? { ok: true } : { ok: false, code: "forbidden" };
  }
  switch (readChannelKind(channel)) {
    case "presence":
      return { ok: true, presence: { user_id: user.userId, user_info: { address: user.address } } };
    case "private":
    case "public":
      return { ok: true };
  }
}
