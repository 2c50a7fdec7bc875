/**
 * Size of the embeddable login widget as an integrator's bundler would ship it:
 * `components/qr-login/index.ts` bundled for browsers (ESM, minified, code splitting) with
 * everything it pulls in (socket.io-client, zustand; the QR encoder is our own, ./components/qr-login/qr-code.ts) except React itself, which
 * the host app already has. Two figures: the QR mode, which is what a page loads (the entry
 * and every chunk it imports statically; target <= 25 KB gzipped), and the push mode, the
 * chunks its dynamic import adds on top (loaded only when a page opens "Send to my phone").
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = path.join(ROOT, "components", "qr-login", "index.ts");
const OUT_DIR = path.join(ROOT, ".widget-size");
export const WIDGET_GZIP_TARGET_BYTES = 25 * 1024;

export interface ChunkSize {
  bytes: number;
  gzipBytes: number;
  /** Output files counted (paths relative to the out dir). */
  files: string[];
  /** The source files bundled into them (paths relative to the repository). */
  inputs: string[];
}

export interface WidgetSize extends ChunkSize {
  /** What the dynamic import of push mode adds to a page that already has the QR mode. */
  push: ChunkSize;
}

export async function measureWidgetSize(): Promise<WidgetSize> {
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    splitting: true,
    // Needed to name the chunks and the separate license file; nothing is written.
    outdir: OUT_DIR,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    jsx: "automatic",
    external: ["react", "react-dom", "react/jsx-runtime"],
    define: { "process.env.NODE_ENV": '"production"' },
    // As Next.js (Terser extractComments) and most bundlers do: license texts go to a
    // separate file that pages never load, and strings stay UTF-8 rather than \u escapes.
    legalComments: "external",
    charset: "utf8",
    // "use client" means nothing inside one bundle; esbuild warns that it drops it.
    logOverride: { "unsupported-directive": "silent" },
    logLevel: "error",
  });
  const outputs = result.metafile.outputs;
  const contents = new Map(result.outputFiles.map((file) => [path.relative(ROOT, file.path), file.contents]));
  const entry = Object.keys(outputs).find((name) => outputs[name]?.entryPoint !== undefined && name.endsWith(".js"));
  if (entry === undefined) throw new Error("esbuild produced no entry chunk");

  /** `from` and every chunk it imports statically, transitively. */
  const staticClosure = (from: string, into = new Set<string>()): Set<string> => {
    if (into.has(from)) return into;
    into.add(from);
    for (const imported of outputs[from]?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) staticClosure(imported.path, into);
    }
    return into;
  };
  const qr = staticClosure(entry);
  const push = new Set<string>();
  for (const name of qr) {
    for (const imported of outputs[name]?.imports ?? []) {
      if (imported.kind === "dynamic-import" && !imported.external) {
        for (const chunk of staticClosure(imported.path)) if (!qr.has(chunk)) push.add(chunk);
      }
    }
  }
  const sizeOf = (names: Set<string>): ChunkSize => {
    let bytes = 0;
    let gzipBytes = 0;
    for (const name of names) {
      const file = contents.get(name);
      if (file === undefined) throw new Error(`no output for ${name}`);
      bytes += file.byteLength;
      // Each chunk is its own request, compressed on its own.
      gzipBytes += gzipSync(file, { level: 9 }).byteLength;
    }
    const files = [...names].map((name) => path.relative(path.relative(ROOT, OUT_DIR), name));
    const inputs = [...names].flatMap((name) => Object.keys(outputs[name]?.inputs ?? {}));
    return { bytes, gzipBytes, files, inputs };
  };
  return { ...sizeOf(qr), push: sizeOf(push) };
}
