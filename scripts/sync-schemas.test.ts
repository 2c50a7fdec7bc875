import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getSchemaPaths, renderPostgresSchema, syncSchemas } from "./sync-schemas";

describe("sync-schemas", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

  it("prisma/postgres/schema.prisma is in step with prisma/schema.prisma (run scripts/sync-schemas.ts if not)", async () => {
    expect(await syncSchemas({ check: true })).toEqual({ isInSync: true });
  });

  it("swaps the provider and the client output, and marks the copy as generated", async () => {
    const paths = getSchemaPaths();
    const rendered = renderPostgresSchema(await fs.readFile(paths.source, "utf8"), paths);
    expect(rendered).toMatch(/^\/\/ GENERATED from prisma\/schema\.prisma/);
    expect(rendered).toMatch(/provider = "postgresql"/);
    expect(rendered).toMatch(/output\s+= "\.\.\/\.\.\/generated\/postgres"/);
    expect(rendered).not.toMatch(/"sqlite"|generated\/sqlite/);
  });

  it("--check reports a stale copy without writing; a sync fixes it", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "sync-schemas-"));
    dirs.push(root);
    const paths = getSchemaPaths(root);
    await fs.mkdir(path.dirname(paths.target), { recursive: true });
    await fs.copyFile(getSchemaPaths().source, paths.source);
    await fs.appendFile(paths.source, "\nmodel Extra {\n  id String @id\n}\n");
    await fs.writeFile(paths.target, "stale");

    expect(await syncSchemas({ check: true, paths })).toEqual({ isInSync: false });
    expect(await fs.readFile(paths.target, "utf8")).toBe("stale");
    expect(await syncSchemas({ check: false, paths })).toEqual({ isInSync: false });
    expect(await fs.readFile(paths.target, "utf8")).toMatch(/model Extra/);
    expect(await syncSchemas({ check: true, paths })).toEqual({ isInSync: true });
  });
});
