/**
 * Logins that ask for claims, answered with a presentation of a credential, against a real server
 * (test/protocol and test/attestors suites of the attestor and its admin API).
 */
import { expect } from "vitest";
import { presentCredential } from "../../lib/claims/credentials";
import type { WalletKey } from "../../lib/wallet";
import {
  StateRecorder,
  connectSocket,
  postAuth,
  redeemApproved,
  scan,
  signAnswer,
  startLogin,
  type BrowserSocket,
} from "../protocol/helpers";

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** On `socket`: a login asking for `claims`, POST /api/auth by `key` presenting `credential`. */
async function answerOn(socket: BrowserSocket, baseUrl: string, key: WalletKey, credential: string, claims: string[]) {
  const session = await startLogin(socket, { requiredClaims: claims });
  const req = await scan(session);
  const presentation = await presentCredential({
    credential,
    disclose: claims,
    nonce: req.nonce,
    aud: req.uri,
    privateKeyHex: key.privateKey,
  });
  const answer = await postAuth(baseUrl, { ...(await signAnswer(key, req, session.matchCode)), presentation });
  return { session, answer };
}

/** POST /api/auth of a login that asks for `claims`, with a presentation of `credential`. */
export async function answerPresenting(baseUrl: string, key: WalletKey, credential: string, claims: string[]) {
  const { socket } = await connectSocket(baseUrl);
  try {
    return (await answerOn(socket, baseUrl, key, credential, claims)).answer;
  } finally {
    socket.disconnect();
  }
}

/**
 * Logins presenting `credential` are tried every 250 ms until one's answer is `done` or `ms` have
 * passed (a server may hold an old trust or status list for its cache); the last answer.
 */
export async function answerPresentingUntil(
  baseUrl: string,
  key: WalletKey,
  credential: string,
  claims: string[],
  done: (answer: Awaited<ReturnType<typeof answerPresenting>>) => boolean,
  ms: number,
) {
  const deadline = Date.now() + ms;
  let answer = await answerPresenting(baseUrl, key, credential, claims);
  while (!done(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    answer = await answerPresenting(baseUrl, key, credential, claims);
  }
  return answer;
}

/** A login that asks for `claims`, answered with a presentation of `credential`; the redeemed user. */
export async function logInPresenting(baseUrl: string, key: WalletKey, credential: string, claims: string[]) {
  const { socket } = await connectSocket(baseUrl);
  const states = new StateRecorder(socket);
  try {
    const { session, answer } = await answerOn(socket, baseUrl, key, credential, claims);
    expect(answer.status).toBe(200);
    return (await redeemApproved(baseUrl, states, session)).body.user;
  } finally {
    socket.disconnect();
  }
}
