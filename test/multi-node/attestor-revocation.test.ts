/**
 * Attestor trust and revocation on two app nodes of one deployment (separate processes sharing
 * PostgreSQL, Redis and DATA_DIR; PUBLIC_URL node 1's address, as behind one load balancer):
 * - trust and distrust with `npm run attestor` (the CLI writes the database) hold on both
 *   nodes once their attestor cache (ATTESTOR_CACHE_MS) has lapsed;
 * - a credential revoked with the CLI is refused (`claims_invalid`, reason `credential_revoked`)
 *   on the next login on both nodes once their cached status list (ttl 1 s here) has lapsed;
 *   node 2 fetches the list from the deployment's origin like any verifier.
 * The waits are longer than those cache times; nothing asserts how long anything took.
 * Requires Redis and PostgreSQL: skipped with a printed reason locally, a failure in CI.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletKey } from "../../lib/wallet";
import { runAttestorCli } from "../../scripts/attestor-cli";
import { ATTESTOR_CACHE_MS } from "../../server/claims/attestor-directory";
import { findAttestor, type AttestorRecord } from "../../server/claims/attestor-records";
import { createDb, type DbHandle } from "../../server/db/client";
import { issueWithStatus, loginPresenting } from "../attestors/support";
import { createTestDeployment, requireDeploymentServices } from "../support/deployment";
import type { ServerProcess } from "../support/server-process";

const TTL_SECONDS = 1;
const hasServices = await requireDeploymentServices({ postgres: true });

describe.skipIf(!hasServices)("attestor trust and revocation on two nodes (PostgreSQL)", () => {
  const deployment = createTestDeployment({ label: "attestors", postgres: true });
  let node1: ServerProcess;
  let node2: ServerProcess;
  let handle: DbHandle | undefined;
  let attestor: AttestorRecord;

  beforeAll(async () => {
    await deployment.setUp();
    [node1, node2] = await deployment.startNodes(["node 1", "node 2"], {
      STATUS_LIST_TTL_SECONDS: String(TTL_SECONDS),
    });
    handle = await createDb({ url: deployment.env.DATABASE_URL! });
    const created = await cli("create", "--name", "Two-node attestor", "--json");
    attestor = (await findAttestor(handle.prisma, (JSON.parse(created) as { id: string }).id))!;
  }, 120_000);
  afterAll(() => deployment.cleanup(() => handle?.close()));

  async function cli(...argv: string[]): Promise<string> {
    const lines: string[] = [];
    const env = { ...deployment.env, PUBLIC_URL: node1.url, NODE_ENV: "test" as const };
    const code = await runAttestorCli(argv, { env, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    expect({ code, out: lines.join("\n") }).toMatchObject({ code: 0 });
    return lines.join("\n");
  }

  const outwaitAttestorCache = () => sleep(ATTESTOR_CACHE_MS + 1_000);
  const outwaitStatusTtl = () => sleep(TTL_SECONDS * 1000 + 1_000);

  async function loginOnBoth(key: ReturnType<typeof createWalletKey>, credential: string) {
    return [
      await loginPresenting(node1.url, key, ["email"], credential),
      await loginPresenting(node2.url, key, ["email"], credential),
    ];
  }

  it("a trust change and a revocation hold on the next login on every node", async () => {
    const key = createWalletKey();
    const { credential, credentialId } = await issueWithStatus(
      handle!.prisma,
      deployment.env.DATA_DIR!,
      node1.url,
      attestor,
      key,
      { email: "ada@example.com" },
    );

    // Not trusted yet: refused on both (and the "untrusted" answer is now cached on both).
    for (const answer of await loginOnBoth(key, credential)) {
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "claims_invalid" } });
    }

    await cli("trust", attestor.id);
    await outwaitAttestorCache();
    for (const answer of await loginOnBoth(key, credential)) expect(answer.status).toBe(200);

    await cli("revoke", credentialId);
    await outwaitStatusTtl();
    for (const answer of await loginOnBoth(key, credential)) {
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "claims_invalid", reason: "credential_revoked" } });
    }

    await cli("reinstate", credentialId);
    await outwaitStatusTtl();
    for (const answer of await loginOnBoth(key, credential)) expect(answer.status).toBe(200);

    await cli("distrust", attestor.id);
    await outwaitAttestorCache();
    for (const answer of await loginOnBoth(key, credential)) {
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "claims_invalid" } });
      expect(answer.body).not.toMatchObject({ error: { reason: expect.anything() } });
    }
  }, 120_000);
});
