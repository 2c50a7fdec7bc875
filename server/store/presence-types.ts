/**
 * Channel subscriptions and presence members (docs/protocol.md section 2), as the stores keep
 * them so that every node sees the same channels and members.
 *
 * The model:
 * - A subscription is (channel, socket id), owned by the node that holds the socket.
 * - A presence channel has members: a user with several subscribed sockets is ONE member,
 *   with a connection count. The member is added by the subscription that takes the
 *   count from 0 to 1 and removed by the one that takes it back to 0; subscribe and
 *   unsubscribe each report which happened, atomically, so exactly one caller on one node
 *   announces each change.
 * - Nodes hold leases. A node renews its lease every so often; a subscribe under a node
 *   whose lease has lapsed is refused (`node_expired`). Any node may list the nodes whose
 *   lease lapsed, and remove their subscriptions one by one with `unsubscribe`, which
 *   reports the members that leaves gone; then `removeNode` forgets the node.
 */

/** A presence member as kept: user_info as JSON text ("null" when there is none). */
export interface PresenceMemberRecord {
  userId: string;
  userInfo: string;
}

export interface ChannelSubscribeInput {
  channel: string;
  socketId: string;
  nodeId: string;
  /** Presence channels only. */
  member?: PresenceMemberRecord;
  /** A new member beyond this many is refused (`over_capacity`). */
  maxMembers: number;
}

export type ChannelSubscribeOutcome =
  | {
      ok: true;
      /** false when this socket was already subscribed (nothing changed). */
      isNew: boolean;
      /** true when this subscription made its user a member. */
      memberAdded: boolean;
      /** Presence channels: every member, this one included. */
      members?: PresenceMemberRecord[];
    }
  | { ok: false; code: "node_expired" | "over_capacity" };

export interface ChannelUnsubscribeInput {
  channel: string;
  socketId: string;
  /** Only a subscription owned by this node is removed. */
  nodeId: string;
}

export interface ChannelUnsubscribeOutcome {
  wasSubscribed: boolean;
  /** The user id whose last subscription this was (they are no longer a member). */
  memberRemoved?: string;
}

export interface ChannelCounts {
  /** Subscribed sockets. */
  subscriptionCount: number;
  /** Distinct members (presence channels; 0 for others). */
  userCount: number;
}

export interface NodeSubscription {
  channel: string;
  socketId: string;
}

export interface PresenceStore {
  /** Starts (or restarts) a node's lease: it lapses leaseMs from now unless renewed. */
  registerNode(nodeId: string, leaseMs: number): Promise<void>;
  /** Extends a live lease; false when it had lapsed or was forgotten (the node must re-register under a new id). */
  renewNode(nodeId: string, leaseMs: number): Promise<boolean>;
  /** Nodes whose lease has lapsed and that were not forgotten yet. */
  listExpiredNodes(): Promise<string[]>;
  /** Up to `limit` subscriptions a node still owns. */
  listNodeSubscriptions(nodeId: string, limit: number): Promise<NodeSubscription[]>;
  /** Forgets a node that owns no subscriptions (and, with onlyIfExpired, whose lease lapsed); true when it did. */
  removeNode(nodeId: string, options: { onlyIfExpired: boolean }): Promise<boolean>;

  subscribe(input: ChannelSubscribeInput): Promise<ChannelSubscribeOutcome>;
  unsubscribe(input: ChannelUnsubscribeInput): Promise<ChannelUnsubscribeOutcome>;

  /** Occupied channels whose name starts with `prefix`, sorted by name. */
  listChannels(prefix: string): Promise<Array<{ channel: string } & ChannelCounts>>;
  /** Zeros for an unoccupied channel. */
  readChannel(channel: string): Promise<ChannelCounts>;
  /** The user ids of a presence channel's members. */
  listMembers(channel: string): Promise<string[]>;
}
