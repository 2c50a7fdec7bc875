/**
 * The command line shared by the scripts' CLIs (app-cli.ts, wallet-cli.ts):
 * `<command> [args...] [options]`, parsed strictly with node:util parseArgs.
 *
 * - `-h`, `--help` or the command `help`: the usage text on `out`, exit code 0.
 * - An unknown or malformed option, or no command: the message (if any), a blank line
 *   and the usage text on `err`, exit code 2. A CLI reports its own usage errors the
 *   same way by throwing UsageError and answering with `usageFailure`.
 */
import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";

/** The exit code of a usage error. */
export const EXIT_USAGE = 2;

/** A mistake in the command line: answered with the usage text and EXIT_USAGE. */
export class UsageError extends Error {}

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** The values parseArgs gives for `options` (each optional), plus `help`. */
export type CliValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: O & typeof HELP_OPTION }>
>["values"];

export interface CliSpec<O extends OptionsConfig> {
  usage: string;
  /** The CLI's options; `-h`/`--help` is added. */
  options: O;
  /** Printed above the usage text when no command is given (default: the usage text alone). */
  noCommandMessage?: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

export type ParsedCommandLine<O extends OptionsConfig> =
  | { command: string; args: string[]; options: CliValues<O>; exitCode?: undefined }
  /** Nothing to run: help was shown (0) or a usage error reported (2). */
  | { exitCode: number };

/** Splits `argv` into a command, its arguments and the options, or answers help and usage errors. */
export function parseCommandLine<const O extends OptionsConfig>(
  argv: string[],
  spec: CliSpec<O>,
): ParsedCommandLine<O> {
  let parsed: { positionals: string[]; values: { help?: string | boolean } };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...spec.options, ...HELP_OPTION } });
  } catch (error) {
    return { exitCode: usageFailure(spec, (error as Error).message) };
  }
  const [command, ...args] = parsed.positionals;
  if (parsed.values.help === true || command === "help") {
    spec.out(spec.usage);
    return { exitCode: 0 };
  }
  if (command === undefined) {
    if (spec.noCommandMessage === undefined) spec.err(spec.usage);
    else usageFailure(spec, spec.noCommandMessage);
    return { exitCode: EXIT_USAGE };
  }
  // parseArgs gives these values for spec.options; TypeScript cannot follow it through the generic O.
  return { command, args, options: parsed.values as CliValues<O> };
}

/** Prints `message`, a blank line and the usage text on `err`; returns EXIT_USAGE. */
export function usageFailure(spec: Pick<CliSpec<OptionsConfig>, "usage" | "err">, message: string): number {
  spec.err(`${message}\n\n${spec.usage}`);
  return EXIT_USAGE;
}

/** Where a CLI reads its environment and writes its lines (tests pass their own). */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The process's own environment, stdout and stderr. */
export const processIo: CliIo = {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};
