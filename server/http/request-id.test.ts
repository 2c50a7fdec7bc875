import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { createProxyTrust } from "./client-ip";
import { chooseRequestId, createRequestIdGenerator, isValidRequestId } from "./request-id";

const requestFrom = (peer: string, requestId?: string | string[]) =>
  ({
    headers: requestId === undefined ? {} : { "x-request-id": requestId },
    socket: { remoteAddress: peer },
  }) as unknown as IncomingMessage;

describe("request ids", () => {
  it("keeps 1-128 characters of a proxy's usual alphabets, and nothing else", () => {
    for (const id of [
      "a",
      "3f2b9c1e-7a4d-4e0b-9d51-0c6f2a8b7e11",
      "Zm9v+YmFy/cXV4=",
      "node-1:42@edge.eu_1",
      "x".repeat(128),
    ]) {
      expect(isValidRequestId(id)).toBe(true);
    }
    for (const id of ["", "x".repeat(129), "a b", "a\nb", "<script>", 'a"b', "a,b", "é", "a;b", "a\u0000b"]) {
      expect(isValidRequestId(id)).toBe(false);
    }
  });

  it("generates distinct ids that pass its own check, with one random prefix per generator", () => {
    const generate = createRequestIdGenerator();
    const ids = Array.from({ length: 1000 }, generate);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every(isValidRequestId)).toBe(true);
    const prefix = (id: string) => id.slice(0, id.lastIndexOf("-"));
    expect(new Set(ids.map(prefix)).size).toBe(1);
    expect(prefix(createRequestIdGenerator()())).not.toBe(prefix(ids[0]!));
  });

  it("takes X-Request-Id only from a trusted proxy, and only a valid one", () => {
    const trust = createProxyTrust(["10.0.0.0/8", "127.0.0.1"]);
    const generate = () => "generated";
    expect(chooseRequestId(requestFrom("10.1.2.3", "abc-123"), trust, generate)).toBe("abc-123");
    expect(chooseRequestId(requestFrom("::ffff:127.0.0.1", "abc-123"), trust, generate)).toBe("abc-123");
    expect(chooseRequestId(requestFrom("192.0.2.7", "abc-123"), trust, generate)).toBe("generated");
    expect(chooseRequestId(requestFrom("10.1.2.3", "bad id"), trust, generate)).toBe("generated");
    expect(chooseRequestId(requestFrom("10.1.2.3", "x".repeat(129)), trust, generate)).toBe("generated");
    expect(chooseRequestId(requestFrom("10.1.2.3", ["a", "b"]), trust, generate)).toBe("generated");
    expect(chooseRequestId(requestFrom("10.1.2.3"), trust, generate)).toBe("generated");
    expect(chooseRequestId(requestFrom("10.1.2.3", "abc"), createProxyTrust([]), generate)).toBe("generated");
  });
});
