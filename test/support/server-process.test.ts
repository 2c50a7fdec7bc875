import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serverChildEnv } from "./server-process";

/** Every variable .env.example documents, commented out or not. */
const documentedKeys = [
  ...readFileSync(new URL("../../.env.example", import.meta.url), "utf8").matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm),
].map((match) => match[1]!);

describe("serverChildEnv", () => {
  it("passes none of the parent's server settings to a child server", () => {
    expect(documentedKeys.length).toBeGreaterThan(30);
    const parent = Object.fromEntries(documentedKeys.map((key) => [key, `from-parent-${key}`]));
    const child = serverChildEnv({ ...parent, UNRELATED: "kept" }, { PORT: "1234" });
    const leaked = documentedKeys.filter((key) => child[key]?.startsWith("from-parent-"));
    expect(leaked).toEqual([]);
    expect(child).toMatchObject({ UNRELATED: "kept", PORT: "1234", NODE_ENV: "test" });
  });
});
