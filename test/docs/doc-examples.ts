/**
 * Reads the tested examples out of docs/protocol.md and checks answers against them.
 *
 * The document's conventions (also explained in its "How to read the examples"):
 * - `<!-- flow: name -->` starts a flow: the examples after it, up to the next flow, run in
 *   document order against one server, sharing their values and their sockets. A flow that
 *   needs its own server settings names them: `<!-- flow: name; env: KEY=value KEY2=value -->`
 *   (its own server is started with them; other flows share one server).
 * - `<!-- before: fixture[, fixture] -->` runs named set-up steps (defined in
 *   protocol-doc.test.ts) just before the next example, e.g. a wallet signing the request.
 * - A ```http block that starts with a request line (`POST /api/auth`) is a request; the next
 *   fenced block must be a ```http block that starts with `HTTP/1.1 <status>`: the expected
 *   answer (status, the headers listed, and the JSON body or none; with a documented
 *   `Content-Type: text/...`, the body is a text pattern with `<name>` and `...`).
 * - A ```socket.io block is `emit <event>` (or `emit <event> @name` for another socket of the
 *   flow) and a JSON payload; the next fenced block is a ```json block, the expected ack. Or it
 *   is `on <event>` and the JSON payload of a push the socket must receive.
 * - Placeholders: in a request, `<name>` is replaced with the flow's value of that name (a
 *   JSON string that is exactly `"<name>"` becomes the value itself, of any JSON type). In an
 *   expected answer, `<name>` takes the value found there the first time and must equal it
 *   afterwards; `...` is any value (a whole string), any text (inside a string), other keys
 *   (the key `"..."` in an object) or any array (`["..."]`). Everything else must be equal,
 *   and objects must have exactly the keys shown.
 */
export interface HttpExample {
  kind: "http";
  /** 1-based line of the request block, for messages. */
  line: number;
  flow: string;
  /** The flow's own server settings, if it has any. */
  env: Record<string, string>;
  before: string[];
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string | undefined;
  expected: { status: number; headers: Array<[string, string]>; body: string | undefined };
}

export interface SocketExample {
  kind: "socket";
  line: number;
  flow: string;
  env: Record<string, string>;
  before: string[];
  verb: "emit" | "on";
  event: string;
  socket: string;
  payload: string | undefined;
  /** The expected ack of an `emit`. */
  expectedAck: string | undefined;
}

export type DocExample = HttpExample | SocketExample;

interface Fence {
  tag: string;
  line: number;
  text: string;
  /** The flow and fixtures in force where the block stands. */
  flow: string | undefined;
  env: Record<string, string>;
  before: string[];
}

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+)$/;
const STATUS_LINE = /^HTTP\/1\.1 (\d{3})(?: .*)?$/;
const SOCKET_LINE = /^(emit|on) ([A-Za-z0-9_:.-]+)(?: @([A-Za-z0-9_-]+))?$/;

/** Every tested example of the document, in order; throws on a block that breaks the conventions. */
export function parseDocExamples(markdown: string): DocExample[] {
  const fences = readFences(markdown);
  const examples: DocExample[] = [];
  const problems: string[] = [];
  /** Indexes of the answer and ack blocks an example claimed. */
  const claimed = new Set<number>();
  for (let i = 0; i < fences.length; i++) {
    const fence = fences[i]!;
    if (fence.tag !== "http" && fence.tag !== "socket.io") continue;
    const where = `docs/protocol.md:${fence.line}`;
    if (fence.flow === undefined) {
      problems.push(`${where}: example before any <!-- flow: name -->`);
      continue;
    }
    const next = fences[i + 1];
    if (fence.tag === "http") {
      const parsed = parseHttpMessage(fence.text);
      const request = REQUEST_LINE.exec(parsed.startLine);
      if (!request) {
        // A lone answer block is reported below.
        if (STATUS_LINE.test(parsed.startLine)) continue;
        problems.push(
          `${where}: an http block starts with a request line (or follows one as its answer), got "${parsed.startLine}"`,
        );
        continue;
      }
      const answer = next?.tag === "http" ? parseHttpMessage(next.text) : undefined;
      const status = answer ? STATUS_LINE.exec(answer.startLine) : null;
      if (!answer || !status) {
        problems.push(`${where}: a request must be followed by a \`\`\`http block starting "HTTP/1.1 <status>"`);
        continue;
      }
      examples.push({
        kind: "http",
        line: fence.line,
        flow: fence.flow,
        env: fence.env,
        before: fence.before,
        method: request[1]!,
        target: request[2]!,
        headers: parsed.headers,
        body: parsed.body,
        expected: { status: Number(status[1]), headers: answer.headers, body: answer.body },
      });
      claimed.add(++i);
    } else {
      const [first = "", ...rest] = fence.text.split("\n");
      const socketLine = SOCKET_LINE.exec(first.trim());
      if (!socketLine) {
        problems.push(`${where}: a socket.io block starts "emit <event>" or "on <event>", got "${first}"`);
        continue;
      }
      const payload = rest.join("\n").trim() || undefined;
      const verb = socketLine[1] as "emit" | "on";
      if (verb === "emit" && next?.tag !== "json") {
        problems.push(`${where}: an emit must be followed by a \`\`\`json block, its expected ack`);
        continue;
      }
      if (verb === "on" && payload === undefined) {
        problems.push(`${where}: an "on" block holds the expected payload`);
        continue;
      }
      examples.push({
        kind: "socket",
        line: fence.line,
        flow: fence.flow,
        env: fence.env,
        before: fence.before,
        verb,
        event: socketLine[2]!,
        socket: socketLine[3] ?? "browser",
        payload,
        expectedAck: verb === "emit" ? next!.text.trim() : undefined,
      });
      if (verb === "emit") claimed.add(++i);
    }
  }
  // A lone answer block (one no request claimed) is a mistake too.
  fences.forEach((fence, index) => {
    if (fence.tag === "http" && !claimed.has(index) && STATUS_LINE.test(fence.text.split("\n")[0]!.trim())) {
      problems.push(`docs/protocol.md:${fence.line}: an answer block without a request before it`);
    }
  });
  if (problems.length > 0) throw new Error(`docs/protocol.md breaks the example conventions:\n${problems.join("\n")}`);
  return examples;
}

function readFences(markdown: string): Fence[] {
  const lines = markdown.split("\n");
  const fences: Fence[] = [];
  let flow: string | undefined;
  let env: Record<string, string> = {};
  /** Each flow is one run of consecutive examples: a name is used once. */
  const seenFlows = new Set<string>();
  let before: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const flowMark = /^<!-- flow: ([A-Za-z0-9_-]+)(?:; env: ([A-Z0-9_]+=\S* ?)+)? -->$/.exec(line.trim());
    if (flowMark) {
      if (seenFlows.has(flowMark[1]!)) throw new Error(`docs/protocol.md:${i + 1}: a second flow "${flowMark[1]}"`);
      seenFlows.add(flowMark[1]!);
      flow = flowMark[1];
      const settings = /; env: (.*) -->$/.exec(line.trim())?.[1] ?? "";
      env = Object.fromEntries(
        settings
          .split(" ")
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
      );
      before = [];
      continue;
    }
    const beforeMark = /^<!-- before: ([A-Za-z0-9_, -]+) -->$/.exec(line.trim());
    if (beforeMark) {
      before = beforeMark[1]!
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
      continue;
    }
    const open = /^```(\S*)\s*$/.exec(line);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    fences.push({ tag: open[1]!, line: start + 1, text: body.join("\n"), flow, env, before });
    // Fixtures belong to the one example that follows them (its request or emit block).
    if (open[1] === "http" || open[1] === "socket.io") before = [];
  }
  return fences;
}

function parseHttpMessage(text: string): { startLine: string; headers: Array<[string, string]>; body?: string } {
  const lines = text.split("\n");
  const startLine = (lines[0] ?? "").trim();
  const headers: Array<[string, string]> = [];
  let i = 1;
  for (; i < lines.length && lines[i]!.trim() !== ""; i++) {
    const colon = lines[i]!.indexOf(":");
    if (colon > 0) headers.push([lines[i]!.slice(0, colon).trim(), lines[i]!.slice(colon + 1).trim()]);
  }
  const body = lines
    .slice(i + 1)
    .join("\n")
    .trim();
  return body === "" ? { startLine, headers } : { startLine, headers, body };
}

// ---------------------------------------------------------------------------------------------
// Placeholders

const PLACEHOLDER = /<([A-Za-z_][A-Za-z0-9_]*)>/g;
const WHOLE_PLACEHOLDER = /^<([A-Za-z_][A-Za-z0-9_]*)>$/;
const HAS_PLACEHOLDER = /<[A-Za-z_][A-Za-z0-9_]*>/;

export type Vars = Map<string, unknown>;

function valueOf(vars: Vars, name: string): unknown {
  if (!vars.has(name)) throw new Error(`<${name}> has no value yet in this flow (fixture or earlier answer missing)`);
  return vars.get(name);
}

/** `text` with every `<name>` replaced by the flow's value (as text). */
export function fillText(text: string, vars: Vars, skip: ReadonlySet<string> = new Set()): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (skip.has(name)) return whole;
    const value = valueOf(vars, name);
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

/** A parsed JSON request value with its placeholders filled (`"<name>"` alone becomes the value). */
export function fillJson(value: unknown, vars: Vars): unknown {
  if (typeof value === "string") {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    return whole ? valueOf(vars, whole[1]!) : fillText(value, vars);
  }
  if (Array.isArray(value)) return value.map((item) => fillJson(item, vars));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [fillText(k, vars), fillJson(v, vars)]));
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whether `actual` matches the documented `expected`; new `<name>` values go into `found`
 * (kept apart from `vars` so a failed match binds nothing). Returns the first difference.
 */
export function matchValue(expected: unknown, actual: unknown, vars: Vars, found: Vars, path = "$"): string | null {
  const known = (name: string) => (found.has(name) ? found.get(name) : vars.get(name));
  const isKnown = (name: string) => found.has(name) || vars.has(name);
  if (typeof expected === "string") {
    if (expected === "...") return actual === undefined ? `${path}: missing` : null;
    const whole = WHOLE_PLACEHOLDER.exec(expected);
    if (whole) {
      const name = whole[1]!;
      if (actual === undefined) return `${path}: missing (expected <${name}>)`;
      if (isKnown(name)) {
        return JSON.stringify(known(name)) === JSON.stringify(actual)
          ? null
          : `${path}: ${JSON.stringify(actual)} is not <${name}> = ${JSON.stringify(known(name))}`;
      }
      found.set(name, actual);
      return null;
    }
    if (expected.includes("...") || HAS_PLACEHOLDER.test(expected)) {
      if (typeof actual !== "string") return `${path}: ${JSON.stringify(actual)} is not a string like "${expected}"`;
      return matchPattern(expected, actual, known, isKnown, found, path);
    }
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: ${JSON.stringify(actual)} is not an array`;
    if (expected.length === 1 && expected[0] === "...") return null;
    if (expected.length !== actual.length) return `${path}: ${actual.length} items, documented ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const diff = matchValue(expected[i], actual[i], vars, found, `${path}[${i}]`);
      if (diff) return diff;
    }
    return null;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return `${path}: ${JSON.stringify(actual)} is not an object`;
    const allowsMore = "..." in expected;
    const keys = Object.keys(expected)
      .filter((k) => k !== "...")
      .map((k) => [k, k.replace(PLACEHOLDER, (_w, name: string) => String(known(name)))] as const);
    for (const [docKey, key] of keys) {
      const diff = matchValue(expected[docKey], actual[key], vars, found, `${path}.${key}`);
      if (diff) return diff;
    }
    if (!allowsMore) {
      const extra = Object.keys(actual).filter((k) => !keys.some(([, key]) => key === k));
      if (extra.length > 0) return `${path}: undocumented keys ${extra.join(", ")}`;
    }
    return null;
  }
  return JSON.stringify(expected) === JSON.stringify(actual)
    ? null
    : `${path}: ${JSON.stringify(actual)}, documented ${JSON.stringify(expected)}`;
}

/** A string with `<name>` and `...` holes; unknown names are captured. */
function matchPattern(
  expected: string,
  actual: string,
  known: (name: string) => unknown,
  isKnown: (name: string) => boolean,
  found: Vars,
  path: string,
): string | null {
  const captured: string[] = [];
  const source = expected
    .split(/(<[A-Za-z_][A-Za-z0-9_]*>|\.\.\.)/)
    .map((part) => {
      if (part === "...") return "[\\s\\S]*?";
      const name = WHOLE_PLACEHOLDER.exec(part)?.[1];
      if (name === undefined) return escapeRegExp(part);
      if (isKnown(name)) {
        const value = known(name);
        return escapeRegExp(typeof value === "string" ? value : JSON.stringify(value));
      }
      if (captured.includes(name)) return `\\k<${name}>`;
      captured.push(name);
      return `(?<${name}>[\\s\\S]+?)`;
    })
    .join("");
  const match = new RegExp(`^${source}$`).exec(actual);
  if (!match)
    return `${path}: ${JSON.stringify(actual.slice(0, 400))}${actual.length > 400 ? "..." : ""} does not read "${expected}"`;
  for (const name of captured) found.set(name, match.groups![name]);
  return null;
}
