import { describe, expect, it } from "vitest";
import { createProxyTrust, LOOPBACK_PROXIES, ProxyListError, resolveClientIp } from "./client-ip";

const trust = createProxyTrust(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);

describe("resolveClientIp", () => {
  it("is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(resolveClientIp("203.0.113.5", "198.51.100.1", trust)).toBe("203.0.113.5");
    expect(resolveClientIp("::ffff:203.0.113.5", "10.0.0.1", trust)).toBe("203.0.113.5");
  });

  it("reads the header from the right and ignores what the client wrote on the left", () => {
    // The client sent "X-Forwarded-For: 10.0.1.2"; our proxy appended the address it saw.
    expect(resolveClientIp("127.0.0.1", "10.0.1.2, 203.0.113.9", trust)).toBe("203.0.113.9");
    expect(resolveClientIp("127.0.0.1", "1.1.1.1, 2.2.2.2, 203.0.113.9", trust)).toBe("203.0.113.9");
  });

  it("skips entries that are trusted proxies (a chain of them)", () => {
    expect(resolveClientIp("::ffff:127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.2.3, 10.9.9.9", trust)).toBe("203.0.113.9");
    expect(resolveClientIp("fd00::1", ["6.6.6.6, 2001:db8::7", "fd00::2"], trust)).toBe("2001:db8::7");
  });

  it("is the peer when a trusted proxy sent no header, and the leftmost hop when every hop is trusted", () => {
    expect(resolveClientIp("127.0.0.1", undefined, trust)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "10.0.0.7, 10.0.0.8", trust)).toBe("10.0.0.7");
  });

  it("stops at an entry that is not an address, at the last trusted hop", () => {
    expect(resolveClientIp("127.0.0.1", "203.0.113.9, nonsense", trust)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "203.0.113.9, , 10.0.0.4", trust)).toBe("10.0.0.4");
    expect(resolveClientIp("127.0.0.1", "x".repeat(5000), trust)).toBe("127.0.0.1");
  });

  it("takes the host:port and [v6]:port forms some proxies write", () => {
    expect(resolveClientIp("127.0.0.1", "203.0.113.9:4711", trust)).toBe("203.0.113.9");
    expect(resolveClientIp("127.0.0.1", "[2001:db8::1]:4711", trust)).toBe("2001:db8::1");
  });

  it("trusts nobody with an empty list", () => {
    const none = createProxyTrust([]);
    expect(resolveClientIp("127.0.0.1", "203.0.113.9", none)).toBe("127.0.0.1");
    expect(resolveClientIp(undefined, "203.0.113.9", none)).toBe("unknown");
  });

  it("loopback means 127.0.0.0/8 and ::1 only", () => {
    const loopback = createProxyTrust(LOOPBACK_PROXIES);
    expect(loopback.isTrusted("127.0.0.2")).toBe(true);
    expect(loopback.isTrusted("::1")).toBe(true);
    expect(loopback.isTrusted("10.0.0.1")).toBe(false);
    expect(loopback.isTrusted("not an ip")).toBe(false);
  });

  it("refuses entries that are not IPs or CIDRs", () => {
    for (const bad of ["localhost", "10.0.0.0/33", "10.0.0.0/8/1", "::1/129", "10.0.0.0/x", "10.0.0.0/"]) {
      expect(() => createProxyTrust([bad]), bad).toThrow(ProxyListError);
    }
  });
});
