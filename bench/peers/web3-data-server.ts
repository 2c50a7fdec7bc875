/**
 * The data fetches peer: the seed recipe served the usual way. A plain node:http handler for
 * POST /api/data/users that parses the JSON body, recovers the signer with
 * `web3.eth.accounts.recover`, looks the app up with Prisma, checks address, activity and expiry,
 * and answers a page of users from the database with Prisma. No replay cache, no rate limit: it
 * does less than ours. Same database model and client as ours (SQLite in DATA_DIR/app.db, created
 * and migrated at start). `PORT`, `HOST`, `DATA_DIR` from the environment.
 */
import { createServer, type IncomingMessage } from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { servePeer } from "./serve-peer";
import { Web3 } from "web3";
import { migrateDatabase } from "../../server/db/migrate";
import { createDb } from "../../server/db/client";

interface SignedBody {
  message: { appId: string; iat: number; exp: number; nonce: string; metaData?: { limit?: number; page?: number } };
  fyresign: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function main() {
  const dataDir = process.env.DATA_DIR;
  if (!dataDir) throw new Error("DATA_DIR is required");
  const url = `file:${path.join(dataDir, "app.db")}`;
  await migrateDatabase({ url });
  const { prisma } = await createDb({ url });
  const web3 = new Web3();

  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/api/data/users") return send(404, { error: { code: "not_found" } });
    void (async () => {
      try {
        const body = JSON.parse(await readBody(req)) as SignedBody;
        const signer = web3.eth.accounts.recover(JSON.stringify(body.message), body.fyresign);
        const app = await prisma.app.findUnique({ where: { id: body.message.appId } });
        if (!app || !app.active || app.address.toLowerCase() !== signer.toLowerCase()) {
          return send(401, { error: { code: "invalid_signature" } });
        }
        if (body.message.exp * 1000 < Date.now()) return send(401, { error: { code: "expired" } });
        const limit = Math.min(100, body.message.metaData?.limit ?? 20);
        const page = Math.max(1, body.message.metaData?.page ?? 1);
        const users = await prisma.user.findMany({
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          skip: (page - 1) * limit,
          take: limit,
          select: { id: true, address: true, createdAt: true },
        });
        send(200, { data: users, meta: { limit, page } });
      } catch {
        send(400, { error: { code: "invalid_request" } });
      }
    })();
  });
  servePeer(server, process.env.HOST ?? "127.0.0.1", Number(process.env.PORT ?? 0), () => prisma.$disconnect());
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) await main();
