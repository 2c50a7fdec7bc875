import pg from "pg";
import { describe, expect, it } from "vitest";
import { PROBE_TIMEOUT_MS, UnavailableError, createAvailability } from "../availability";
import { createLogger } from "../logger";
import { TEST_POSTGRES_URL } from "../../test/support/services";
import { createDatabaseDeadline } from "./deadline";

const never = () => new Promise<never>(() => {});
const later = <T>(value: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("createDatabaseDeadline", () => {
  it("answers what the database answers, fast or slow, while the probe says it is there", async () => {
    let probes = 0;
    const deadline = createDatabaseDeadline({
      isDown: () => false,
      probe: async () => (probes++, true),
      slowQueryMs: 5,
    });
    expect(await deadline(() => Promise.resolve("fast"))).toBe("fast");
    expect(probes).toBe(0);
    expect(await deadline(() => later("slow", 50))).toBe("slow");
    expect(probes).toBe(1);
    await expect(deadline(() => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
  });

  it("gives up on an operation without an answer once the probe gets none either", async () => {
    const deadline = createDatabaseDeadline({ isDown: () => false, probe: async () => false, slowQueryMs: 5 });
    const error = await deadline(never).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ dependency: "database" });
  });

  it("does not probe again while the database is known to be down", async () => {
    let probes = 0;
    const deadline = createDatabaseDeadline({
      isDown: () => true,
      probe: async () => (probes++, true),
      slowQueryMs: 5,
    });
    await expect(deadline(never)).rejects.toBeInstanceOf(UnavailableError);
    expect(probes).toBe(0);
  });
});

describe("Availability.probe", () => {
  it("shares one probe between callers at once, and says whether the dependency answered", async () => {
    const availability = createAvailability({ log: createLogger("silent") });
    let checks = 0;
    let answer: () => void = () => {};
    availability.addProbe({
      dependency: "database",
      check: () => (checks++, new Promise<void>((resolve) => (answer = resolve))),
    });
    const both = Promise.all([availability.probe("database"), availability.probe("database")]);
    answer();
    expect(await both).toEqual([true, true]);
    expect(checks).toBe(1);
    expect(await availability.probe("redis")).toBe(true);
    availability.close();
  });

  it("takes an answer that arrived while the event loop was busy past the timeout for an answer, not an outage", async () => {
    // The real PostgreSQL: its answer is in the kernel, unread, when the loop comes back to run the timer.
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    const availability = createAvailability({ log: createLogger("silent") });
    availability.addProbe({ dependency: "database", check: async () => void (await client.query("SELECT 1")) });
    try {
      const probed = availability.probe("database");
      // A loaded machine: the loop is held past the probe's timeout while the answer comes in.
      const until = Date.now() + PROBE_TIMEOUT_MS + 200;
      while (Date.now() < until) {
        /* busy */
      }
      expect(await probed).toBe(true);
      expect(availability.isDown("database")).toBe(false);
    } finally {
      availability.close();
      await client.end();
    }
  });
});
