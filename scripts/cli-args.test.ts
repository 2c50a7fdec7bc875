import { describe, expect, it } from "vitest";
import { EXIT_USAGE, parseCommandLine, usageFailure } from "./cli-args";

const USAGE = "Usage: tool <command> [options]";

function parse(argv: string[], noCommandMessage?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandLine(argv, {
    usage: USAGE,
    options: { name: { type: "string" }, json: { type: "boolean" } },
    noCommandMessage,
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  return { parsed, out, err };
}

describe("parseCommandLine", () => {
  it("splits the command, its arguments and the options", () => {
    const { parsed, out, err } = parse(["create", "one", "--name", "x", "two", "--json"]);
    expect(parsed).toEqual({ command: "create", args: ["one", "two"], options: { name: "x", json: true } });
    expect([out, err]).toEqual([[], []]);
  });

  it("shows the usage on out with 0 for -h, --help and the command help", () => {
    for (const argv of [["-h"], ["--help"], ["help"], ["create", "--help"], ["help", "--json"]]) {
      const { parsed, out, err } = parse(argv);
      expect({ argv, parsed, out, err }).toEqual({ argv, parsed: { exitCode: 0 }, out: [USAGE], err: [] });
    }
  });

  it("answers an unknown or malformed option with the message and the usage on err, and 2", () => {
    for (const argv of [
      ["create", "--bogus"],
      ["create", "--name"],
      ["create", "--json=yes"],
    ]) {
      const { parsed, out, err } = parse(argv);
      expect(parsed).toEqual({ exitCode: EXIT_USAGE });
      expect(out).toEqual([]);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^\S/);
      expect(err[0]!.endsWith(`\n\n${USAGE}`)).toBe(true);
    }
  });

  it("answers no command with the usage alone, or after noCommandMessage, on err and 2", () => {
    expect(parse([])).toEqual({ parsed: { exitCode: EXIT_USAGE }, out: [], err: [USAGE] });
    expect(parse(["--json"], "No command given.")).toEqual({
      parsed: { exitCode: EXIT_USAGE },
      out: [],
      err: [`No command given.\n\n${USAGE}`],
    });
  });
});

describe("usageFailure", () => {
  it("prints the message, a blank line and the usage on err and returns 2", () => {
    const err: string[] = [];
    expect(usageFailure({ usage: USAGE, err: (text) => err.push(text) }, "create needs --name")).toBe(2);
    expect(err).toEqual([`create needs --name\n\n${USAGE}`]);
  });
});
