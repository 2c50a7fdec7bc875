import { randomBytes, randomInt } from "node:crypto";
import { SiweMessage as SpruceSiweMessage } from "siwe";
import { describe, expect, it } from "vitest";
import {
  formatSiweMessage,
  isValidRfc3339,
  isValidUri,
  MAX_SIWE_MESSAGE_LENGTH,
  parseRfc3339,
  parseSiweMessage,
  toChecksumAddress,
  type SiweMessage,
} from "./siwe";

// The three examples of the EIP-4361 text (ethereum/ERCs, ERCS/erc-4361.md), verbatim.
const EIP_BODY = [
  "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
  "",
  "I accept the ExampleOrg Terms of Service: https://example.com/tos",
  "",
  "URI: https://example.com/login",
  "Version: 1",
  "Chain ID: 1",
  "Nonce: 32891756",
  "Issued At: 2021-09-30T16:25:24Z",
  "Resources:",
  "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
  "- https://example.com/my-web2-claim.json",
].join("\n");
const EIP_IMPLICIT_SCHEME = `example.com wants you to sign in with your Ethereum account:\n${EIP_BODY}`;
const EIP_EXPLICIT_PORT = `example.com:3388 wants you to sign in with your Ethereum account:\n${EIP_BODY}`;
const EIP_EXPLICIT_SCHEME = `https://example.com wants you to sign in with your Ethereum account:\n${EIP_BODY}`;

const EIP_FIELDS = {
  address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
  statement: "I accept the ExampleOrg Terms of Service: https://example.com/tos",
  uri: "https://example.com/login",
  version: "1",
  chainId: 1,
  nonce: "32891756",
  issuedAt: "2021-09-30T16:25:24Z",
  resources: [
    "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
    "https://example.com/my-web2-claim.json",
  ],
} as const;

// Every field set, the shape this app's server asks wallets to sign.
const FULL_MESSAGE: SiweMessage = {
  scheme: "https",
  domain: "login.example.org:8443",
  address: "0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157",
  statement: "Sign in to Example App",
  uri: "https://login.example.org:8443",
  version: "1",
  chainId: 137,
  nonce: "k3Jd9QpL2mX7vR4a",
  issuedAt: "2025-01-02T03:04:05.678Z",
  expirationTime: "2025-01-02T03:06:05.678Z",
  notBefore: "2025-01-02T03:04:00+01:00",
  requestId: "fJ3_kq-9Zx0aB1cD2eF3gA",
  resources: ["https://login.example.org/terms", "urn:example:claim:age-over-18"],
};
const FULL_TEXT = [
  "https://login.example.org:8443 wants you to sign in with your Ethereum account:",
  "0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157",
  "",
  "Sign in to Example App",
  "",
  "URI: https://login.example.org:8443",
  "Version: 1",
  "Chain ID: 137",
  "Nonce: k3Jd9QpL2mX7vR4a",
  "Issued At: 2025-01-02T03:04:05.678Z",
  "Expiration Time: 2025-01-02T03:06:05.678Z",
  "Not Before: 2025-01-02T03:04:00+01:00",
  "Request ID: fJ3_kq-9Zx0aB1cD2eF3gA",
  "Resources:",
  "- https://login.example.org/terms",
  "- urn:example:claim:age-over-18",
].join("\n");

function parseOk(text: string): SiweMessage {
  const result = parseSiweMessage(text);
  if (!result.ok) throw new Error(`expected to parse, got: ${result.error}\n${text}`);
  return result.message;
}

describe("parseSiweMessage: EIP-4361 examples", () => {
  it("parses the example with an implicit scheme", () => {
    expect(parseOk(EIP_IMPLICIT_SCHEME)).toEqual({ domain: "example.com", ...EIP_FIELDS });
  });

  it("parses the example with an explicit port", () => {
    expect(parseOk(EIP_EXPLICIT_PORT)).toEqual({ domain: "example.com:3388", ...EIP_FIELDS });
  });

  it("parses the example with an explicit scheme", () => {
    expect(parseOk(EIP_EXPLICIT_SCHEME)).toEqual({ scheme: "https", domain: "example.com", ...EIP_FIELDS });
  });

  it("re-formats each example to the identical text", () => {
    for (const text of [EIP_IMPLICIT_SCHEME, EIP_EXPLICIT_PORT, EIP_EXPLICIT_SCHEME]) {
      expect(formatSiweMessage(parseOk(text))).toBe(text);
    }
  });

  it("agrees with the siwe package's parser on the examples", () => {
    for (const text of [EIP_IMPLICIT_SCHEME, EIP_EXPLICIT_PORT, EIP_EXPLICIT_SCHEME]) {
      const theirs = new SpruceSiweMessage(text);
      const ours = parseOk(text);
      expect(ours.domain).toBe(theirs.domain);
      expect(ours.scheme).toBe(theirs.scheme);
      expect(ours.address).toBe(theirs.address);
      expect(ours.statement).toBe(theirs.statement);
      expect(ours.resources).toEqual(theirs.resources);
      expect(ours.nonce).toBe(theirs.nonce);
    }
  });

  it("parses a message with every field", () => {
    expect(parseOk(FULL_TEXT)).toEqual(FULL_MESSAGE);
    expect(formatSiweMessage(FULL_MESSAGE)).toBe(FULL_TEXT);
  });
});

describe("parseSiweMessage: valid edge cases", () => {
  const minimal: SiweMessage = {
    domain: "localhost:3000",
    address: "0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae157",
    uri: "http://localhost:3000",
    version: "1",
    chainId: 1,
    nonce: "abcdefgh",
    issuedAt: "2025-01-01T00:00:00Z",
  };

  it("formats no statement as two empty lines", () => {
    const text = formatSiweMessage(minimal);
    expect(text).toBe(
      [
        "localhost:3000 wants you to sign in with your Ethereum account:",
        "0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae157",
        "",
        "",
        "URI: http://localhost:3000",
        "Version: 1",
        "Chain ID: 1",
        "Nonce: abcdefgh",
        "Issued At: 2025-01-01T00:00:00Z",
      ].join("\n"),
    );
    expect(parseOk(text)).toEqual(minimal);
  });

  it("keeps an empty statement apart from no statement", () => {
    const text = formatSiweMessage({ ...minimal, statement: "" });
    expect(text).toContain("0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae157\n\n\n\nURI: ");
    expect(parseOk(text)).toEqual({ ...minimal, statement: "" });
  });

  it("accepts all-lowercase and all-uppercase addresses and a correct checksum", () => {
    for (const address of [
      "0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae157",
      "0xB11DD42DD798F7E69A9A93AB06B5AA6B247AE157",
      "0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157",
    ]) {
      expect(parseOk(formatSiweMessage({ ...minimal, address })).address).toBe(address);
    }
  });

  it("accepts IP literals, userinfo and an empty Resources list", () => {
    for (const domain of ["[::1]:3000", "127.0.0.1", "[2001:db8::ff00:42:8329]", "user:pw@example.com", "a.b.c"]) {
      expect(parseOk(formatSiweMessage({ ...minimal, domain })).domain).toBe(domain);
    }
    expect(parseOk(formatSiweMessage({ ...minimal, resources: [] })).resources).toEqual([]);
  });

  it("accepts offsets, fractions and lower-case t/z in times", () => {
    for (const time of ["2025-01-01T00:00:00.123456789+05:30", "2024-02-29t23:59:59z", "0001-01-01T00:00:00-00:00"]) {
      expect(parseOk(formatSiweMessage({ ...minimal, issuedAt: time, expirationTime: time })).issuedAt).toBe(time);
    }
  });

  it("accepts a scheme with +, - and .", () => {
    expect(parseOk(formatSiweMessage({ ...minimal, scheme: "web+app-1.x" })).scheme).toBe("web+app-1.x");
  });
});

describe("parseSiweMessage: malformed messages", () => {
  const lines = FULL_TEXT.split("\n");
  const replaceLine = (index: number, line: string) => lines.map((l, i) => (i === index ? line : l)).join("\n");
  const removeLine = (index: number) => lines.filter((_, i) => i !== index).join("\n");
  const insertLine = (index: number, line: string) =>
    [...lines.slice(0, index), line, ...lines.slice(index)].join("\n");
  const swapLines = (a: number, b: number) =>
    lines.map((l, i) => (i === a ? lines[b] : i === b ? lines[a] : l)).join("\n");
  const header = (origin: string) => replaceLine(0, `${origin} wants you to sign in with your Ethereum account:`);

  const cases: Array<[string, string]> = [
    ["empty input", ""],
    ["only the header", lines[0] ?? ""],
    ["missing header", removeLine(0)],
    ["header without the colon", replaceLine(0, "example.com wants you to sign in with your Ethereum account")],
    ["header with other wording", replaceLine(0, "example.com wants you to sign in with your Ethereum wallet:")],
    ["header with a leading space", ` ${FULL_TEXT}`],
    ["empty domain", header("")],
    ["domain with a space", header("exa mple.com")],
    ["domain with a path", header("example.com/login")],
    ["domain with a bad port", header("example.com:80a")],
    ["domain with a bad IPv6", header("[::1::2]")],
    ["bad scheme", header("1https://example.com")],
    ["empty scheme", header("://example.com")],
    ["missing address", removeLine(1)],
    ["address without 0x", replaceLine(1, "b11dd42dd798F7e69A9A93AB06b5AA6b247aE157")],
    ["address with 0X", replaceLine(1, "0Xb11dd42dd798f7e69a9a93ab06b5aa6b247ae157")],
    ["address too short", replaceLine(1, "0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae15")],
    ["address too long", replaceLine(1, "0xb11dd42dd798f7e69a9a93ab06b5aa6b247ae1570")],
    ["address not hex", replaceLine(1, "0xg11dd42dd798f7e69a9a93ab06b5aa6b247ae157")],
    ["address with a bad checksum", replaceLine(1, "0xB11dd42dd798F7e69A9A93AB06b5AA6b247aE157")],
    ["address with trailing space", replaceLine(1, "0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157 ")],
    ["no empty line after the address", removeLine(2)],
    ["statement over two lines", insertLine(4, "second line")],
    ["statement with a quote", replaceLine(3, 'Sign in to "Example"')],
    ["statement with a percent sign", replaceLine(3, "100% safe")],
    ["statement with non-ASCII", replaceLine(3, "Sign in to Exämple")],
    ["statement with a tab", replaceLine(3, "Sign in\tnow")],
    ["no empty line after the statement", removeLine(4)],
    ["missing URI", removeLine(5)],
    ["URI without a scheme", replaceLine(5, "URI: //example.com")],
    ["URI with a space", replaceLine(5, "URI: https://example.com/a b")],
    ["URI with a bad percent escape", replaceLine(5, "URI: https://example.com/%zz")],
    ["URI with an unclosed IP literal", replaceLine(5, "URI: https://[::1/")],
    ["empty URI", replaceLine(5, "URI: ")],
    ["lower-case label", replaceLine(5, "uri: https://login.example.org:8443")],
    ["label without the space", replaceLine(5, "URI:https://login.example.org:8443")],
    ["version 2", replaceLine(6, "Version: 2")],
    ["version 01", replaceLine(6, "Version: 01")],
    ["missing version", removeLine(6)],
    ["chain ID not a number", replaceLine(7, "Chain ID: one")],
    ["chain ID with a leading zero", replaceLine(7, "Chain ID: 0137")],
    ["chain ID negative", replaceLine(7, "Chain ID: -1")],
    ["chain ID decimal point", replaceLine(7, "Chain ID: 1.0")],
    ["chain ID too large", replaceLine(7, "Chain ID: 99999999999999999")],
    ["empty chain ID", replaceLine(7, "Chain ID: ")],
    ["nonce of 7 characters", replaceLine(8, "Nonce: abcdefg")],
    ["nonce with a dash", replaceLine(8, "Nonce: abcd-efgh")],
    ["nonce with a space", replaceLine(8, "Nonce: abcd efgh")],
    ["missing nonce", removeLine(8)],
    ["missing Issued At", removeLine(9)],
    ["Issued At without an offset", replaceLine(9, "Issued At: 2025-01-02T03:04:05")],
    ["Issued At with a space", replaceLine(9, "Issued At: 2025-01-02 03:04:05Z")],
    ["Issued At month 13", replaceLine(9, "Issued At: 2025-13-02T03:04:05Z")],
    ["Issued At 29 February 2025", replaceLine(9, "Issued At: 2025-02-29T03:04:05Z")],
    ["Issued At 31 April", replaceLine(9, "Issued At: 2025-04-31T03:04:05Z")],
    ["Issued At hour 24", replaceLine(9, "Issued At: 2025-01-02T24:00:00Z")],
    ["Issued At leap second", replaceLine(9, "Issued At: 2016-12-31T23:59:60Z")],
    ["Issued At offset without colon", replaceLine(9, "Issued At: 2025-01-02T03:04:05+0100")],
    ["Issued At offset hour 24", replaceLine(9, "Issued At: 2025-01-02T03:04:05+24:00")],
    ["Issued At empty fraction", replaceLine(9, "Issued At: 2025-01-02T03:04:05.Z")],
    ["Issued At date only", replaceLine(9, "Issued At: 2025-01-02")],
    ["Issued At epoch number", replaceLine(9, "Issued At: 1735787045")],
    ["bad Expiration Time", replaceLine(10, "Expiration Time: tomorrow")],
    ["bad Not Before", replaceLine(11, "Not Before: 2025-01-02T03:04:60Z")],
    ["Request ID with a space", replaceLine(12, "Request ID: a b")],
    ["Request ID with a slash", replaceLine(12, "Request ID: a/b")],
    ["Not Before before Expiration Time", swapLines(10, 11)],
    ["Nonce before Chain ID", swapLines(7, 8)],
    ["Resources before Request ID", [...lines.slice(0, 12), ...lines.slice(13), lines[12]].join("\n")],
    ["duplicate Expiration Time", insertLine(11, lines[10] ?? "")],
    ["unknown field", insertLine(13, "Foo: bar")],
    ["resource without a dash", replaceLine(14, "https://login.example.org/terms")],
    ["resource that is not a URI", replaceLine(14, "- not a uri")],
    ["resource with two spaces", replaceLine(14, "-  https://login.example.org/terms")],
    ["trailing newline", `${FULL_TEXT}\n`],
    ["trailing garbage line", `${FULL_TEXT}\nhello`],
    ["trailing garbage on the last line", `${FULL_TEXT} x`],
    ["CRLF line endings", FULL_TEXT.replaceAll("\n", "\r\n")],
    ["a lone CR", FULL_TEXT.replace("Version: 1", "Version: 1\r")],
    ["Version 2 message", FULL_TEXT.replace("Version: 1", "Version: 2")],
  ];

  it.each(cases)("rejects %s", (_name, text) => {
    expect(text).not.toBe(FULL_TEXT);
    const result = parseSiweMessage(text);
    expect(result.ok).toBe(false);
  });

  it("rejects a message just over the size limit and accepts one at it", () => {
    const base = formatSiweMessage({ ...FULL_MESSAGE, resources: [] });
    const fill = (total: number) => {
      const room = total - base.length - "\n- https://x.example/".length;
      return `${base}\n- https://x.example/${"a".repeat(room)}`;
    };
    const atLimit = fill(MAX_SIWE_MESSAGE_LENGTH);
    expect(atLimit.length).toBe(MAX_SIWE_MESSAGE_LENGTH);
    expect(parseSiweMessage(atLimit).ok).toBe(true);
    const overLimit = fill(MAX_SIWE_MESSAGE_LENGTH + 1);
    expect(parseSiweMessage(overLimit)).toEqual({ ok: false, error: "message too long" });
    expect(parseSiweMessage(FULL_TEXT + "\n" + "x".repeat(1_000_000)).ok).toBe(false);
  });

  it("rejects input that is not a string", () => {
    expect(parseSiweMessage(undefined as unknown as string).ok).toBe(false);
    expect(parseSiweMessage({} as unknown as string).ok).toBe(false);
  });
});

describe("formatSiweMessage", () => {
  it("refuses fields that would change the message's lines", () => {
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, statement: "hi\nURI: https://evil.example" })).toThrow(TypeError);
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, nonce: "short" })).toThrow(TypeError);
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, domain: "evil.example wants you" })).toThrow(TypeError);
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, chainId: 1.5 })).toThrow(TypeError);
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, version: "2" as "1" })).toThrow(TypeError);
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, resources: ["https://a.example\n- https://b.example"] })).toThrow(
      TypeError,
    );
    expect(() => formatSiweMessage({ ...FULL_MESSAGE, requestId: "a\nNot Before: x" })).toThrow(TypeError);
  });
});

// Random but valid field values for round-trip tests, within what both this parser and siwe's accept.
const STATEMENT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -._~:/?#[]@!$&'()*+,;=";
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)] as T;
const randomText = (chars: string, min: number, max: number) =>
  Array.from({ length: randomInt(min, max + 1) }, () => chars[randomInt(chars.length)]).join("");
const randomTime = () => {
  const iso = new Date(randomInt(0, 4_000_000_000_000)).toISOString();
  return pick([iso, iso.replace(".000Z", "Z").replace(/\.\d{3}Z$/, "Z"), iso.replace("Z", "+02:00")]);
};

function randomMessage(): SiweMessage {
  const domain = pick(["example.com", "localhost:3000", "sub.example.org:8443", "127.0.0.1:80", "[::1]:3000"]);
  const message: SiweMessage = {
    domain,
    address: toChecksumAddress(`0x${randomBytes(20).toString("hex")}`),
    uri: pick([`https://${domain}`, `http://${domain}/login?x=1#y`, "did:pkh:eip155:1:abc", "urn:uuid:1234"]),
    version: "1",
    chainId: randomInt(1, 2 ** 40),
    nonce: randomText("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8, 32),
    issuedAt: randomTime(),
  };
  if (randomInt(2)) message.scheme = pick(["https", "http", "wallet+app"]);
  if (randomInt(4)) message.statement = randomText(STATEMENT_CHARS, 1, 80).trim() || "Sign in";
  if (randomInt(2)) message.expirationTime = randomTime();
  if (randomInt(2)) message.notBefore = randomTime();
  if (randomInt(2)) message.requestId = randomBytes(randomInt(1, 24)).toString("base64url");
  if (randomInt(2)) {
    message.resources = Array.from({ length: randomInt(1, 4) }, () =>
      pick(["ipfs://bafybei/", "https://example.com/claim.json", "urn:x:y"]),
    );
  }
  return message;
}

describe("round trips", () => {
  it("format -> parse gives back the same fields", () => {
    for (let i = 0; i < 300; i++) {
      const message = randomMessage();
      const text = formatSiweMessage(message);
      expect(parseOk(text)).toEqual(message);
    }
  });

  it("messages built by the siwe package parse and re-format to the identical text", () => {
    for (let i = 0; i < 200; i++) {
      const message = randomMessage();
      const text = new SpruceSiweMessage({ ...message }).prepareMessage();
      const parsed = parseOk(text);
      expect(parsed).toEqual(message);
      expect(formatSiweMessage(parsed)).toBe(text);
    }
  });

  it("the siwe package's parser accepts what formatSiweMessage produces", () => {
    for (let i = 0; i < 100; i++) {
      const message = randomMessage();
      const theirs = new SpruceSiweMessage(formatSiweMessage(message));
      expect(theirs.address).toBe(message.address);
      expect(theirs.nonce).toBe(message.nonce);
      expect(theirs.statement).toBe(message.statement);
    }
  });
});

describe("toChecksumAddress", () => {
  // Test vectors from EIP-55.
  const vectors = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
  ];

  it("matches the EIP-55 vectors from any case", () => {
    for (const address of vectors) {
      expect(toChecksumAddress(address.toLowerCase())).toBe(address);
      expect(toChecksumAddress(`0x${address.slice(2).toUpperCase()}`)).toBe(address);
    }
  });

  it("uses the keccak256 it is given (the server passes its native one)", () => {
    const seen: number[][] = [];
    const allHigh = (bytes: Uint8Array) => {
      seen.push([...bytes]);
      return new Uint8Array(32).fill(0xff);
    };
    expect(toChecksumAddress(vectors[0]!, allHigh)).toBe(vectors[0]!.toUpperCase().replace("0X", "0x"));
    expect(seen).toEqual([[...Buffer.from(vectors[0]!.slice(2).toLowerCase(), "ascii")]]);
  });

  it("throws on non-addresses", () => {
    expect(() => toChecksumAddress("0x1234")).toThrow(TypeError);
    expect(() => toChecksumAddress("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")).toThrow(TypeError);
  });
});

describe("isValidRfc3339 and parseRfc3339", () => {
  it("agrees with Date for ISO strings", () => {
    for (let i = 0; i < 200; i++) {
      const ms = randomInt(0, 4_000_000_000_000);
      expect(parseRfc3339(new Date(ms).toISOString())).toBe(ms);
    }
  });

  it("applies offsets", () => {
    expect(parseRfc3339("2025-01-02T03:04:05+01:30")).toBe(Date.parse("2025-01-02T01:34:05Z"));
    expect(parseRfc3339("2025-01-02T03:04:05-00:30")).toBe(Date.parse("2025-01-02T03:34:05Z"));
    expect(parseRfc3339("0050-06-01T00:00:00Z")).toBe(Date.parse("0050-06-01T00:00:00Z"));
  });

  it("is exact on both sides of year 100 (Date.UTC would read 0099 as 1999)", () => {
    for (const text of [
      "0000-01-01T00:00:00Z",
      "0099-12-31T23:59:59.999Z",
      "0100-01-01T00:00:00Z",
      "0100-03-01T12:00:00Z",
    ]) {
      expect(parseRfc3339(text)).toBe(Date.parse(text));
    }
  });

  it("rejects non date-times", () => {
    for (const text of ["", "2025-01-02", "2025-1-02T03:04:05Z", "2025-01-02T03:04Z", "2025-01-02T03:04:05+1:00"]) {
      expect(isValidRfc3339(text)).toBe(false);
    }
    expect(isValidRfc3339("2024-02-29T00:00:00Z")).toBe(true);
    expect(isValidRfc3339("2100-02-29T00:00:00Z")).toBe(false);
    expect(isValidRfc3339("2000-02-29T00:00:00Z")).toBe(true);
  });
});

describe("isValidUri", () => {
  it("accepts RFC 3986 URIs", () => {
    for (const uri of [
      "https://example.com",
      "https://user:pw@example.com:8443/a/b;c?d=e&f#g/h?",
      "http://[2001:db8::1]:80/",
      "http://[v1.fe80::a+en1]/",
      "mailto:a@example.com",
      "urn:isbn:0451450523",
      "did:pkh:eip155:1:0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157",
      "file:///etc/hosts",
      "x:",
      "https://example.com/%E2%9C%93",
    ]) {
      expect(isValidUri(uri), uri).toBe(true);
    }
  });

  it("rejects non-URIs", () => {
    for (const uri of [
      "",
      "example.com",
      "/relative",
      "https://exa mple.com",
      "https://example.com/✓",
      "https://example.com/%g0",
      "https://[::1",
      "https://[1:2:3:4:5:6:7:8:9]/",
      "https://a@b@c/",
      "https://example.com:8o/",
      "https://example.com/a#b#c",
      "1http://example.com",
    ]) {
      expect(isValidUri(uri), uri).toBe(false);
    }
  });
});
