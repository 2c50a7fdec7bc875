/**
 * Size of the embeddable QR-login widget as an integrator's bundler would ship it:
 * `components/qr-login/index.ts` bundled for browsers (ESM, minified) with everything
 * it pulls in (socket.io-client, qrcode.react, zustand) except React itself, which the
 * host app already has. Target: <= 25 KB gzipped.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = path.join(ROOT, "components", "qr-login", "index.ts");
export const WIDGET_GZIP_TARGET_BYTES = 25 * 1024;

export async function measureWidgetSize(): Promise<{ bytes: number; gzipBytes: number }> {
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    // Needed to name the separate license file; nothing is written.
    outfile: path.join(ROOT, ".widget-size", "qr-login.js"),
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
  const output = result.outputFiles.find((file) => file.path.endsWith(".js"));
  if (output === undefined) throw new Error("esbuild produced no output");
  return { bytes: output.contents.byteLength, gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength };
}
