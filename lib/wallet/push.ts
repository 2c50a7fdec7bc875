/**
 * The wallet's side of push login (docs/protocol.md section 5), shared by the wallet simulator,
 * the CLI and the tests: sign a pairing or device challenge (after checking that it names the
 * expected site and this key's address), check a push request, and sign the answer.
 * Transport is the caller's (fetch for pairing, a Socket.IO socket for the device).
 */
import type { ChallengeView, PushRequest } from "../protocol/push";
import { formatSiweMessage } from "../protocol/siwe";
import { WalletError } from "./wallet-error";
import type { WalletKey } from "./wallet-key";

function checkChallengeText(message: string, domain: string, address: string, intro: string) {
  const lines = message.split("\n");
  if (lines[0] !== `${domain} ${intro}` || lines[1]?.toLowerCase() !== address.toLowerCase()) {
    throw new WalletError("invalid_response", "The challenge is not for this site or this key.");
  }
}

/** Signs the text of `POST /api/devices/challenge`; `domain` is the site the wallet means to pair with. */
export async function signPairingChallenge(key: WalletKey, challenge: ChallengeView, domain: string) {
  checkChallengeText(challenge.message, domain, key.address, "asks to pair this wallet as a device:");
  return { challengeId: challenge.challengeId, signature: await key.signMessage(challenge.message) };
}

/** Signs the text of `device:challenge`: the payload of `device:auth`. */
export async function signDeviceChallenge(key: WalletKey, challenge: ChallengeView, domain: string) {
  checkChallengeText(challenge.message, domain, key.address, "asks this device to connect:");
  return { challengeId: challenge.challengeId, signature: await key.signMessage(challenge.message) };
}

/** A push request is only signed for the site it says it comes from and for this key. */
export function checkPushRequest(request: PushRequest, key: WalletKey, domain: string): void {
  if (request.domain !== domain || new URL(request.uri).host !== domain) {
    throw new WalletError("invalid_response", "The push request is for another site.");
  }
  if (request.address.toLowerCase() !== key.address.toLowerCase()) {
    throw new WalletError("invalid_response", "The push request is for another address.");
  }
}

/** The payload of `push:approve`: the EIP-4361 message of the request, signed, with the typed number. */
export async function createPushApproval(input: {
  key: WalletKey;
  request: PushRequest;
  matchCode: string;
  now?: Date;
}): Promise<{ sessionId: string; message: string; signature: string; matchCode: string }> {
  const r = input.request;
  const message = formatSiweMessage({
    domain: r.domain,
    address: input.key.address,
    statement: r.statement,
    uri: r.uri,
    version: r.version,
    chainId: r.chainId,
    nonce: r.nonce,
    issuedAt: (input.now ?? new Date()).toISOString(),
    expirationTime: r.expirationTime,
    requestId: r.requestId,
  });
  return {
    sessionId: r.sessionId,
    message,
    signature: await input.key.signMessage(message),
    matchCode: input.matchCode,
  };
}
