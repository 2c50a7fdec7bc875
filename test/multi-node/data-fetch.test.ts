/**
 * Signed data fetches on two app nodes sharing Redis and PostgreSQL, as separate
 * processes: a signature accepted by one node is refused as `replayed` by the other
 * (the replay cache is one Redis SET NX per signature), also when both get it at the
 * same moment; apps registered on one node are served by the other, reading
 * PostgreSQL. The deployment (test/support/deployment.ts) is set up as in
 * test/multi-node/login.test.ts: one database and one REDIS_PREFIX for this run,
 * removed at the end, and one DATA_DIR (the shared token signing key).
 *
 * Requires Redis and PostgreSQL: skipped with a printed reason locally when either is
 * down, a failure in CI.
 */
import { randomUUID } from "node:crypto";
import { Wallet, hashMessage } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateAppResponse } from "../../lib/protocol/data";
import { createDataClient } from "../../lib/sdk/data-client";
import { createTestDeployment, requireDeploymentServices } from "../support/deployment";
import type { ServerProcess } from "../support/server-process";
import { expectError, logIn, postJson } from "../protocol/helpers";

const hasServices = await requireDeploymentServices({ postgres: true });

describe.skipIf(!hasServices)("signed data fetches on two nodes sharing Redis and PostgreSQL", () => {
  const deployment = createTestDeployment({ label: "data", postgres: true });
  let node1: ServerProcess;
  let node2: ServerProcess;
  let appId: string;
  let privateKey: string;
  let ownerAddress: string;

  beforeAll(async () => {
    await deployment.setUp();
    // Both with PUBLIC_URL node 1's address and the same DATA_DIR.
    [node1, node2] = await deployment.startNodes(["node 1", "node 2"]);

    // The owner signs in on node 1 and registers the app there.
    const { redeemed } = await logIn(node1.url);
    ownerAddress = redeemed.user.address;
    const created = await postJson<CreateAppResponse>(
      `${node1.url}/api/apps`,
      { name: "Two nodes" },
      { authorization: `Bearer ${redeemed.accessToken}` },
    );
    expect(created.status).toBe(201);
    appId = created.body.app.id;
    privateKey = created.body.privateKey!;
  });

  afterAll(() => deployment.cleanup());

  function signedBody() {
    const now = Math.floor(Date.now() / 1000);
    const message = { appId, iat: now, exp: now + 120, nonce: randomUUID(), metaData: { limit: 10, page: 1 } };
    const text = JSON.stringify(message);
    return { message, fyresign: new Wallet(privateKey).signMessageSync(text), messageHash: hashMessage(text) };
  }

  it("serves an app registered on node 1 from node 2, reading PostgreSQL", async () => {
    const client = createDataClient({ endpoint: node2.url, appId, privateKey });
    const users = await client.fetch("users");
    expect(users.data.map((user) => user.address)).toEqual([ownerAddress]);
    expect(users.meta).toEqual({ page: 1, limit: 20, total: 1, pages: 1 });
    const logins = await client.fetch("logins");
    expect(logins.data.map((login) => login.address)).toEqual([ownerAddress]);
  });

  it("refuses on node 2 a signature node 1 accepted, and the other way round", async () => {
    const first = signedBody();
    expect((await postJson(`${node1.url}/api/data/users`, first)).status).toBe(200);
    expectError(await postJson(`${node2.url}/api/data/users`, first), 401, "replayed");

    const second = signedBody();
    expect((await postJson(`${node2.url}/api/data/logins`, second)).status).toBe(200);
    expectError(await postJson(`${node1.url}/api/data/logins`, second), 401, "replayed");
  });

  it("accepts one of the same signature sent to both nodes at once", async () => {
    for (let round = 0; round < 5; round++) {
      const body = signedBody();
      const answers = await Promise.all(
        [node1, node2, node1, node2].map((node) => postJson(`${node.url}/api/data/users`, body)),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([200, 401, 401, 401]);
      for (const answer of answers.filter((a) => a.status === 401)) expectError(answer, 401, "replayed");
    }
  });
});
