/*
 * Counts the channel pushes this node writes to its own sockets (wallet_login_channel_deliveries_total).
 *
 * Why here: a broadcast reaches sockets through the Socket.IO adapter, on the node that emitted
 * it and, with the Redis Streams adapter, on every other node that received it from the stream.
 * Both paths pick the sockets with the adapter's `apply(opts, callback)` (socket.io-adapter's
 * in-memory Adapter, which the cluster adapters extend without overriding it), so wrapping it
 * on this node's adapter counts every local write, whichever node emitted.
 *
 * Rules:
 * - Only calls aimed at channel rooms (`ch:*`: channel:event and the presence pushes) are
 *   counted; login pushes, joins and disconnects pass through untouched.
 * - One counting closure per channel broadcast, none per socket.
 */
import { CHANNEL_ROOM_PREFIX } from "../realtime/emit";
import type { AppSocketServer } from "../realtime/socket-server";

type ApplyFn = (opts: { rooms: Set<string> }, callback: (socket: unknown) => void) => void;

export function countChannelDeliveries(io: AppSocketServer, onDelivered: (sockets: number) => void): void {
  const adapter = io.of("/").adapter as unknown as { apply: ApplyFn };
  const apply = adapter.apply.bind(adapter);
  adapter.apply = (opts, callback) => {
    let isChannelPush = false;
    for (const room of opts.rooms) {
      isChannelPush = room.startsWith(CHANNEL_ROOM_PREFIX);
      break;
    }
    if (!isChannelPush) return apply(opts, callback);
    let sockets = 0;
    apply(opts, (socket) => {
      sockets++;
      callback(socket);
    });
    onDelivered(sockets);
  };
}
