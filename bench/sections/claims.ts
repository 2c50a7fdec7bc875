/**
 * Verifiable claims: SD-JWT VC presentations verified per second by the login's verifier
 * (server/claims/verify-presentation.ts), with a status list check (the list cached, as between
 * two fetches within its ttl) beside the same verification of a credential without a status,
 * alternating in the same run (3 windows each, the median reported). The list (65,536 entries,
 * 2 bits) is served by a plain HTTP server on loopback and fetched once.
 * Also the status list decoding itself: @sd-jwt/jwt-status-list's decompressStatusList beside
 * the verifier's bounded node:zlib decoder (what the verifier uses, once per fetch).
 *
 * Flags: --claims-window-ms=N (default 2000).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { StatusList, createHeaderAndPayload } from "@sd-jwt/jwt-status-list";
import { issueCredential, presentCredential } from "../../lib/claims/credentials";
import {
  ES256K,
  base64urlEncode,
  generatePrivateJwk,
  privateKeyHexOf,
  publicJwkOf,
  signEs256k,
} from "../../lib/claims/es256k";
import { createWalletKey } from "../../lib/wallet";
import { publicPartOf } from "../../server/claims/attestors";
import { decodeStatusList } from "../../server/claims/status-list-token";
import { createStatusListChecker } from "../../server/claims/status-lists";
import { createPresentationVerifier } from "../../server/claims/verify-presentation";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";

export const name = "claims";

const LIST_SIZE = 65_536;
const ROUNDS = 3;
const NONCE = "benchNonce123456";
const AUD = "https://login.example";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const encodeJson = (value: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(value)));

/** Verifications per second of `verify` over a window of `windowMs`, one after another. */
async function rate(verify: () => Promise<{ ok: boolean }>, windowMs: number): Promise<number> {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < windowMs) {
    const result = await verify();
    if (!result.ok) throw new Error("a presentation was refused during the measurement");
    count++;
  }
  return (count * 1000) / (performance.now() - start);
}

export async function run(context: SectionContext): Promise<SectionReport> {
  const windowMs = positiveFlag(context, "claims-window-ms", 2000);
  const attestorJwk = generatePrivateJwk();
  const wallet = createWalletKey();
  const list = new StatusList(new Array<number>(LIST_SIZE).fill(0), 2);
  list.setStatus(7, 1);
  let fetches = 0;
  let token = "";
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/statuslist+jwt" }).end(token);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const iss = origin;
    const uri = `${origin}/status-list`;
    const { header, payload } = createHeaderAndPayload(
      list,
      { iss, sub: uri, iat: Math.floor(Date.now() / 1000), ttl: 3600 },
      { alg: ES256K, typ: "statuslist+jwt" },
    );
    const input = `${encodeJson(header)}.${encodeJson(payload)}`;
    token = `${input}.${signEs256k(privateKeyHexOf(attestorJwk), input)}`;

    const issuer = { iss, privateKeyHex: privateKeyHexOf(attestorJwk) };
    const claims = { email: "ada@example.com", age_over_18: true };
    const holderJwk = publicJwkOf(wallet.privateKey);
    const present = async (credential: string) =>
      presentCredential({ credential, disclose: ["email"], nonce: NONCE, aud: AUD, privateKeyHex: wallet.privateKey });
    const plain = await present(await issueCredential({ issuer, holderJwk, claims }));
    const withStatus = await present(
      await issueCredential({ issuer, holderJwk, claims, status: { status_list: { idx: 1234, uri } } }),
    );
    const trusted = new Map([[iss, publicPartOf(attestorJwk)]]);
    const verifier = createPresentationVerifier(trusted, { statusLists: createStatusListChecker() });
    const check = (presentation: string) => () =>
      verifier.verify({
        presentation,
        nonce: NONCE,
        aud: AUD,
        holderAddress: wallet.address,
        requiredClaims: ["email"],
      });
    // Warm up both paths; the first status check fetches the list.
    for (let i = 0; i < 20; i++) {
      await check(plain)();
      await check(withStatus)();
    }

    const without: number[] = [];
    const withCheck: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      context.log(`claims: round ${round + 1}/${ROUNDS}, ${windowMs} ms each, without then with a status check`);
      without.push(await rate(check(plain), windowMs));
      withCheck.push(await rate(check(withStatus), windowMs));
    }
    const a = median(without);
    const b = median(withCheck);

    const lst = (payload as { status_list: { lst: string } }).status_list.lst;
    const decodeMs = (decode: () => unknown) => {
      const start = performance.now();
      for (let i = 0; i < 10; i++) decode();
      return (performance.now() - start) / 10;
    };
    const libraryMs = decodeMs(() => StatusList.decompressStatusList(lst, 2));
    const oursMs = decodeMs(() => decodeStatusList(lst, 2));

    return {
      rows: [
        {
          section: "claims",
          figure: "presentations verified/s, with a status list check (list cached)",
          value: fmt(b),
          peer: "the same without a status",
          peerValue: fmt(a),
          ratio: ratio(b, a),
          target: ">= 0.9x",
          meets: b >= 0.9 * a,
        },
        {
          section: "claims",
          figure: `status list decode, ${LIST_SIZE} entries (verifier: bounded node:zlib), ms`,
          value: fmt(oursMs, 2),
          peer: "@sd-jwt/jwt-status-list decompressStatusList",
          peerValue: fmt(libraryMs, 2),
          ratio: ratio(oursMs, libraryMs),
          target: "(info)",
          meets: null,
        },
      ],
      results: {
        claims: {
          verifiedPerSecond: { withStatusCached: b, withoutStatus: a, rounds: { without, withCheck } },
          statusListFetches: fetches,
          decodeMs: { verifier: oursMs, library: libraryMs, entries: LIST_SIZE },
        },
      },
      notes: [
        `claims: one verifier, ${ROUNDS} alternating windows of ${windowMs} ms each, sequential on one core (two ES256K verifications per presentation); status lists fetched: ${fetches}`,
      ],
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
