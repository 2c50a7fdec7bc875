/**
 * Attestor records for admins (docs/protocol.md section 6.5): the list, trust, distrust and, for
 * an attestor hosted here, a key rotation; the same records `npm run attestor` manages, through
 * server/claims/attestor-records.ts. Mounted under the attestor's `/admin/*`, so a Bearer token of
 * an ADMIN_ADDRESSES address and an ALLOWED_ORIGINS page are checked before these run. Logins
 * see a change within the attestor directory's cache (ATTESTOR_CACHE_MS) on every node.
 */
import { Hono } from "hono";
import {
  ATTESTOR_RECORD_ACTIONS,
  attestorIdSchema,
  type AdminAttestorView,
  type AttestorRecordAction,
} from "../../../lib/protocol/attestor";
import {
  findAttestor,
  listAttestors,
  rotateAttestorKey,
  setAttestorTrusted,
  type AttestorRecord,
} from "../../claims/attestor-records";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";

const NO_STORE = { "Cache-Control": "no-store" };

export function toAdminAttestorView(record: AttestorRecord): AdminAttestorView {
  return {
    id: record.id,
    name: record.name,
    issuer: record.issuer,
    kid: record.kid,
    publicJwk: { kty: "EC", crv: "secp256k1", x: record.publicJwk.x, y: record.publicJwk.y },
    trusted: record.trusted,
    hosted: record.hosted,
    previousKids: record.previousKeys.map((key) => key.kid),
    createdAt: record.createdAt.toISOString(),
    keyRotatedAt: record.keyRotatedAt?.toISOString() ?? null,
  };
}

function apply(ctx: Pick<AppContext, "db" | "config">, record: AttestorRecord, action: AttestorRecordAction) {
  if (action === "rotate-key") return rotateAttestorKey(ctx.db, ctx.config.dataDir, record.id);
  return setAttestorTrusted(ctx.db, record.id, action === "trust");
}

export function createAttestorRecordRoutes(ctx: Pick<AppContext, "db" | "config" | "log">) {
  const routes = new Hono<ApiEnv>();

  routes.get("/", async (c) =>
    c.json({ attestors: (await listAttestors(ctx.db)).map(toAdminAttestorView) }, 200, NO_STORE),
  );

  for (const action of ATTESTOR_RECORD_ACTIONS) {
    routes.post(`/:id/${action}`, async (c) => {
      const id = attestorIdSchema.safeParse(c.req.param("id"));
      const record = id.success ? await findAttestor(ctx.db, id.data) : null;
      if (!record) return sendError(c, "not_found", NO_STORE);
      if (action === "rotate-key" && !record.hosted) return sendError(c, "attestor_not_hosted", NO_STORE);
      const updated = await apply(ctx, record, action);
      ctx.log.info(
        { event: "attestor_record_changed", attestorId: record.id, action, by: c.var.auth.address },
        "attestor record changed by an admin",
      );
      return c.json({ attestor: toAdminAttestorView(updated) }, 200, NO_STORE);
    });
  }
  return routes;
}
