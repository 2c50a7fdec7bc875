/**
 * A trivial Next route handler, the peer the benchmark measures the API router against
 * (bench/run.ts). /api/* belongs to the Hono router, so it lives outside /api.
 */
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ ok: true });
}
