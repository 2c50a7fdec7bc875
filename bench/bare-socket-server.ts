/**
 * The peer of the memory benchmark: a bare Socket.IO server, websocket transport, nothing else
 * (no middleware, no handlers, no rooms). `PORT` and `HOST` from the environment.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"] });

httpServer.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1");

process.on("SIGTERM", () => {
  io.close(() => process.exit(0));
});
