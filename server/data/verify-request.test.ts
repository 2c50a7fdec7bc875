import { Wallet, getBytes, hashMessage, hexlify, randomBytes, Signature } from "ethers";
import { Web3 } from "web3";
import { afterAll, describe, expect, it } from "vitest";
import { createSignatureVerifier } from "../crypto/secp256k1";
import type { SignatureVerifier } from "../crypto/secp256k1";
import { createMemoryStores } from "../store/memory";
import type { Stores } from "../store/types";
import type { AppRecord } from "./app-directory";
import { checkDataWindow, verifyDataRequest } from "./verify-request";
import type { DataVerifyDeps } from "./verify-request";

const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;

const verifier: SignatureVerifier = await createSignatureVerifier("auto");
const stores: Stores = createMemoryStores();
const openStores: Stores[] = [stores];

afterAll(async () => {
  await Promise.all(openStores.map((s) => s.close()));
});

interface TestApp {
  record: AppRecord;
  wallet: Wallet;
}

function makeApp(overrides: Partial<AppRecord> = {}): TestApp {
  const wallet = new Wallet(hexlify(randomBytes(32)));
  const record: AppRecord = {
    id: `app_${hexlify(randomBytes(8)).slice(2)}`,
    address: wallet.address,
    active: true,
    rateLimitPerMinute: 1000,
    ...overrides,
  };
  return { record, wallet };
}

function depsFor(apps: TestApp[], own: Stores = stores): DataVerifyDeps {
  const byId = new Map(apps.map((app) => [app.record.id, app.record]));
  return {
    verifier,
    apps: { find: async (id) => byId.get(id) ?? null },
    replayCache: own.replayCache,
    rateLimiter: own.rateLimiter,
  };
}

function messageFor(app: TestApp, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appId: app.record.id,
    iat: NOW,
    exp: NOW + 300,
    nonce: hexlify(randomBytes(8)),
    metaData: { limit: 20, page: 1 },
    ...overrides,
  };
}

/** What travels: the body as the server's JSON parser hands it over. */
const overTheWire = (body: unknown): unknown => JSON.parse(JSON.stringify(body));

function signedBody(app: TestApp, message: unknown, extra: Record<string, unknown> = {}) {
  const text = typeof message === "string" ? message : JSON.stringify(message);
  return overTheWire({
    message,
    fyresign: app.wallet.signMessageSync(text),
    messageHash: hashMessage(text),
    ...extra,
  });
}

async function expectCode(deps: DataVerifyDeps, body: unknown, code: string) {
  const result = await verifyDataRequest(deps, body, NOW_MS);
  expect(result).toMatchObject({ ok: false, code });
}

describe("verifyDataRequest accepts", () => {
  it("an object message signed as JSON.stringify(message), and returns the app and the read fields", async () => {
    const app = makeApp();
    const result = await verifyDataRequest(depsFor([app]), signedBody(app, messageFor(app)), NOW_MS);
    expect(result).toEqual({
      ok: true,
      app: app.record,
      message: { appId: app.record.id, iat: NOW, exp: NOW + 300, metaData: { limit: 20, page: 1 } },
    });
  });

  it("web3.eth.accounts.sign(JSON.stringify(message), privateKey) sent as {message, fyresign: signature, messageHash}", async () => {
    const app = makeApp();
    const message = messageFor(app, { metaData: { limit: 5, page: 2 } });
    const signed = new Web3().eth.accounts.sign(JSON.stringify(message), app.wallet.privateKey);
    const body = overTheWire({ message, fyresign: signed.signature, messageHash: signed.messageHash });
    const result = await verifyDataRequest(depsFor([app]), body, NOW_MS);
    expect(result).toMatchObject({ ok: true, message: { metaData: { limit: 5, page: 2 } } });
  });

  it("ethers wallet.signMessage(JSON.stringify(message)), without messageHash", async () => {
    const app = makeApp();
    const message = messageFor(app);
    const body = overTheWire({ message, fyresign: await app.wallet.signMessage(JSON.stringify(message)) });
    expect((await verifyDataRequest(depsFor([app]), body, NOW_MS)).ok).toBe(true);
  });

  it("the signed text sent as a string, however it is formatted", async () => {
    const app = makeApp();
    const text = JSON.stringify(messageFor(app), null, 2);
    expect((await verifyDataRequest(depsFor([app]), signedBody(app, text), NOW_MS)).ok).toBe(true);
  });

  it("objects whose JSON round trip is delicate: integer-like keys, unicode, escapes, nested filters, big numbers", async () => {
    const app = makeApp();
    const message = messageFor(app, {
      "10": "ten",
      "2": ["two", { z: 1, a: [null, true, 1.5e-7] }],
      name: 'Zoë \u2028 "quoted" \\ \ud83d\ude00 \u0007',
      big: [2 ** 64, 1e21, 5e-324, 0.1 + 0.2],
      tiny: -0,
      filters: { since: "2030-01-01T00:00:00Z", addresses: [] },
    });
    expect((await verifyDataRequest(depsFor([app]), signedBody(app, message), NOW_MS)).ok).toBe(true);
  });

  it("a message without metaData as limit 20, page 1; metaData with one field gets the other's default", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    const bare = messageFor(app);
    delete bare.metaData;
    expect(await verifyDataRequest(deps, signedBody(app, bare), NOW_MS)).toMatchObject({
      ok: true,
      message: { metaData: { limit: 20, page: 1 } },
    });
    expect(
      await verifyDataRequest(deps, signedBody(app, messageFor(app, { metaData: { page: 3 } })), NOW_MS),
    ).toMatchObject({ ok: true, message: { metaData: { limit: 20, page: 3 } } });
  });

  it("the bounds: iat 60 s ahead, a window of exactly 86400 s, limit 1 and 100", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    for (const overrides of [
      { iat: NOW + 60, exp: NOW + 120 },
      { iat: NOW - 86_000, exp: NOW + 400 },
      { metaData: { limit: 1, page: 1 } },
      { metaData: { limit: 100, page: 99 } },
      { iat: NOW + 0.5, exp: NOW + 10.25 },
    ]) {
      const result = await verifyDataRequest(deps, signedBody(app, messageFor(app, overrides)), NOW_MS);
      expect({ overrides, ok: result.ok }).toEqual({ overrides, ok: true });
    }
  });

  it("a messageHash in upper-case hex", async () => {
    const app = makeApp();
    const message = messageFor(app);
    const hash = hashMessage(JSON.stringify(message));
    const body = signedBody(app, message, { messageHash: `0x${hash.slice(2).toUpperCase()}` });
    expect((await verifyDataRequest(depsFor([app]), body, NOW_MS)).ok).toBe(true);
  });
});

describe("verifyDataRequest refuses with invalid_request", () => {
  const app = makeApp();
  const deps = depsFor([app]);
  const valid = () => signedBody(app, messageFor(app)) as Record<string, unknown>;

  it.each([
    ["null", null],
    ["an array", []],
    ["a string", "hello"],
    ["a number", 42],
    ["an empty object", {}],
  ])("a body that is %s", async (_name, body) => {
    await expectCode(deps, body, "invalid_request");
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["a number", 7],
    ["a boolean", true],
    ["an array", [1, 2]],
    ["a string that is not JSON", "not json"],
    ["a string holding a JSON array", "[1,2]"],
    ["a string holding JSON null", "null"],
    ["an empty string", ""],
  ])("a message that is %s", async (_name, message) => {
    const body = { ...valid(), message };
    if (message === undefined) delete body.message;
    await expectCode(deps, body, "invalid_request");
  });

  it.each([
    ["missing", undefined],
    ["without 0x", "ab".repeat(65)],
    ["64 bytes", `0x${"ab".repeat(64)}`],
    ["66 bytes", `0x${"ab".repeat(66)}`],
    ["not hex", `0x${"zz".repeat(65)}`],
    ["a number", 12],
  ])("a fyresign that is %s", async (_name, fyresign) => {
    const body = { ...valid(), fyresign };
    if (fyresign === undefined) delete body.fyresign;
    await expectCode(deps, body, "invalid_request");
  });

  it.each([
    ["too short", "0x1234"],
    ["not hex", `0x${"g".repeat(64)}`],
    ["null", null],
  ])("a messageHash that is %s", async (_name, messageHash) => {
    await expectCode(deps, { ...valid(), messageHash }, "invalid_request");
  });

  it.each([
    ["no appId", { appId: undefined }],
    ["an empty appId", { appId: "" }],
    ["a numeric appId", { appId: 12 }],
    ["an appId of 65 characters", { appId: "a".repeat(65) }],
    ["iat as a string", { iat: String(NOW) }],
    ["no iat", { iat: undefined }],
    ["no exp", { exp: undefined }],
    ["a negative exp", { exp: -1 }],
    ["exp in milliseconds", { exp: NOW_MS + 60_000 }],
    ["metaData null", { metaData: null }],
    ["metaData a string", { metaData: "limit=10" }],
    ["metaData an array", { metaData: [20, 1] }],
    ["limit 0", { metaData: { limit: 0, page: 1 } }],
    ["limit 101", { metaData: { limit: 101, page: 1 } }],
    ["limit 1000", { metaData: { limit: 1000, page: 1 } }],
    ["limit 1.5", { metaData: { limit: 1.5, page: 1 } }],
    ["limit as a string", { metaData: { limit: "10", page: 1 } }],
    ["page 0", { metaData: { limit: 10, page: 0 } }],
    ["page -1", { metaData: { limit: 10, page: -1 } }],
    ["page 2.5", { metaData: { limit: 10, page: 2.5 } }],
    ["page beyond safe integers", { metaData: { limit: 10, page: 2 ** 60 } }],
  ])("a correctly signed message with %s", async (_name, overrides) => {
    const message = messageFor(app, overrides);
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete message[key];
    await expectCode(deps, signedBody(app, message), "invalid_request");
  });
});

describe("verifyDataRequest refuses", () => {
  it("unknown_app for an id nobody registered and for a disabled app", async () => {
    const app = makeApp();
    const disabled = makeApp({ active: false });
    const deps = depsFor([app, disabled]);
    await expectCode(deps, signedBody(app, messageFor(app, { appId: "app_nobody" })), "unknown_app");
    await expectCode(deps, signedBody(disabled, messageFor(disabled)), "unknown_app");
  });

  it("invalid_signature for another key, an edited message, and a wrong messageHash", async () => {
    const app = makeApp();
    const other = makeApp();
    const deps = depsFor([app]);
    await expectCode(deps, signedBody(other, messageFor(app)), "invalid_signature");

    const edited = signedBody(app, messageFor(app)) as { message: Record<string, unknown> };
    edited.message.metaData = { limit: 100, page: 1 };
    await expectCode(deps, edited, "invalid_signature");

    const message = messageFor(app);
    const wrongHash = signedBody(app, message, { messageHash: hashMessage(`${JSON.stringify(message)} `) });
    await expectCode(deps, wrongHash, "invalid_signature");
  });

  it("invalid_signature for the high-s twin of a valid signature and for a bad v", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    const message = messageFor(app);
    const text = JSON.stringify(message);
    const signature = Signature.from(app.wallet.signMessageSync(text));
    const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    const highS = `0x${signature.r.slice(2)}${(n - BigInt(signature.s)).toString(16).padStart(64, "0")}${signature.v === 27 ? "1c" : "1b"}`;
    await expectCode(deps, overTheWire({ message, fyresign: highS }), "invalid_signature");
    const badV = `${signature.serialized.slice(0, -2)}1d`;
    await expectCode(deps, overTheWire({ message, fyresign: badV }), "invalid_signature");
  });

  it("expired when exp has passed or is now", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW - 600, exp: NOW - 1 })), "expired");
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW - 600, exp: NOW })), "expired");
  });

  it("invalid_window for iat too far ahead, a window over a day, and exp not after iat", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW + 61, exp: NOW + 300 })), "invalid_window");
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW - 10, exp: NOW + 86_391 })), "invalid_window");
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW + 30, exp: NOW + 30 })), "invalid_window");
    await expectCode(deps, signedBody(app, messageFor(app, { iat: NOW + 30, exp: NOW + 20 })), "invalid_window");
  });

  it("replayed for a signature seen before, also re-spelled with v as 0/1 or as the string form", async () => {
    const app = makeApp();
    const deps = depsFor([app]);
    const message = messageFor(app);
    const body = signedBody(app, message) as { fyresign: string };
    expect((await verifyDataRequest(deps, body, NOW_MS)).ok).toBe(true);
    await expectCode(deps, body, "replayed");
    const v = parseInt(body.fyresign.slice(-2), 16);
    const respelled = `${body.fyresign.slice(0, -2)}0${v - 27}`;
    await expectCode(deps, { ...body, fyresign: respelled }, "replayed");
    await expectCode(deps, { ...body, message: JSON.stringify(message) }, "replayed");
  });

  it("rate_limited past the app's limit per minute, with retryAfterMs; replays and bad signatures do not count", async () => {
    const own = createMemoryStores();
    openStores.push(own);
    const app = makeApp({ rateLimitPerMinute: 2 });
    const deps = depsFor([app], own);
    const first = signedBody(app, messageFor(app));
    expect((await verifyDataRequest(deps, first, NOW_MS)).ok).toBe(true);
    await expectCode(deps, first, "replayed");
    await expectCode(deps, signedBody(makeApp(), messageFor(app)), "invalid_signature");
    expect((await verifyDataRequest(deps, signedBody(app, messageFor(app)), NOW_MS)).ok).toBe(true);
    const refused = await verifyDataRequest(deps, signedBody(app, messageFor(app)), NOW_MS);
    expect(refused).toMatchObject({ ok: false, code: "rate_limited" });
    if (!refused.ok) {
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
  });

  it("checks the shape before anything else: a malformed body never reaches the app lookup", async () => {
    let lookups = 0;
    const deps: DataVerifyDeps = {
      ...depsFor([]),
      apps: {
        find: async () => {
          lookups += 1;
          return null;
        },
      },
    };
    await expectCode(
      deps,
      { message: { appId: "x", iat: NOW, exp: NOW + 1, metaData: { limit: 0 } }, fyresign: "0x" },
      "invalid_request",
    );
    await expectCode(deps, signedBody(makeApp(), { appId: "x", iat: NOW - 100, exp: NOW - 1 }), "expired");
    expect(lookups).toBe(0);
  });
});

describe("checkDataWindow", () => {
  it("takes fractional seconds", () => {
    expect(checkDataWindow({ iat: 100, exp: 200 }, 199.999)).toBeNull();
    expect(checkDataWindow({ iat: 100, exp: 200 }, 200)).toBe("expired");
    expect(checkDataWindow({ iat: 160.5, exp: 200 }, 100.4)).toBe("invalid_window");
  });
});

describe("the signed text", () => {
  it("is the EIP-191 hash web3 and ethers agree on", () => {
    const text = JSON.stringify({ appId: "a", iat: 1, exp: 2, metaData: { limit: 1, page: 1 } });
    const wallet = new Wallet(hexlify(randomBytes(32)));
    const signed = new Web3().eth.accounts.sign(text, wallet.privateKey);
    expect(signed.messageHash).toBe(hashMessage(text));
    expect(signed.signature).toBe(wallet.signMessageSync(text));
    expect(getBytes(signed.signature)).toHaveLength(65);
  });
});
