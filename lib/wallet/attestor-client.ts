/**
 * The wallet's side of the attestor (docs/protocol.md section 6): subscribe to its own channel,
 * prove its key over a fresh challenge and ask for claims, then wait for the credential, which
 * arrives encrypted to a P-256 key only this wallet holds.
 *
 * Order matters: the wallet is subscribed before it asks, so a credential granted at once cannot
 * pass before anyone listens; deliveries are kept by request id until the answer names it. On
 * receipt the credential must be the attestor's (its signature, its `iss`) and bound to this
 * wallet's key (`cnf.jwk`), else it is refused (`invalid_credential`). A request answered
 * `unavailable` is asked again after Retry-After (a few times), each time over a new challenge:
 * the server may have used the old one before its database failed.
 * Browser-safe: the simulator and the CLI both use it.
 */
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { sdJwtHasher } from "../claims/credentials";
import { decryptCredential, generateDeliveryKey, type DeliveryKeyPair } from "../claims/delivery";
import { publicJwkOf, verifyEs256k } from "../claims/es256k";
import { signWalletProof, thumbprintOf } from "../claims/wallet-proof";
import {
  ATTESTOR_API_PATHS,
  PROOF_TYPES,
  WALLET_CHANNEL_EVENTS,
  credentialDeliverySchema,
  credentialRefusalSchema,
  walletChannel,
  type AttestorMetadata,
  type ChallengeResponse,
  type CredentialRequestView,
} from "../protocol/attestor";
import type { ChannelAuthResponse } from "../protocol/channels";
import { ChannelsClientError, createChannelsClient } from "../sdk/channels-client";
import { WalletError } from "./wallet-error";
import type { WalletKey } from "./wallet-key";
import { requestJson, requestJsonOnce, retryUnavailable, type WalletFetchOptions } from "./wallet-login";

/** Long enough for an admin to look; a page may wait longer by asking again. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10 * 60_000;
const SUBSCRIBE_TIMEOUT_MS = 20_000;

export interface RequestCredentialInput extends WalletFetchOptions {
  /** The app's origin, e.g. `http://localhost:3000`. */
  endpoint: string;
  key: WalletKey;
  claims: string[];
  /** For verified_email: the address to verify. */
  email?: string;
  /** The key the credential is encrypted to; default a fresh non-extractable one. */
  deliveryKey?: DeliveryKeyPair;
  timeoutMs?: number;
  /** Called with the attestor's answer (issued or pending) before the credential arrives. */
  onRequested?: (request: CredentialRequestView) => void;
}

export interface ReceivedCredential {
  requestId: string;
  /** The SD-JWT VC, `<jwt>~<disclosure>~...~`. */
  credential: string;
  issuer: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const postInit = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json" },
  body: JSON.stringify(body),
});

function post(url: string, body: unknown, options: WalletFetchOptions) {
  return requestJson(url, postInit(body), options);
}

function postOnce(url: string, body: unknown, options: WalletFetchOptions) {
  return requestJsonOnce(url, postInit(body), options);
}

/** The attestor's public description (GET /api/attestor). */
export async function fetchAttestorMetadata(
  endpoint: string,
  options: WalletFetchOptions = {},
): Promise<AttestorMetadata> {
  const body = await requestJson(`${endpoint}${ATTESTOR_API_PATHS.metadata}`, { method: "GET" }, options);
  const metadata = body as AttestorMetadata;
  if (typeof metadata?.iss !== "string" || typeof metadata.jwk !== "object") {
    throw new WalletError("invalid_response", "The attestor's metadata is malformed.");
  }
  return metadata;
}

/** Whether `credential` is signed by the attestor and bound to `key`; the payload when it is. */
async function checkReceived(credential: string, metadata: AttestorMetadata, key: WalletKey): Promise<void> {
  const [jwt] = credential.split("~");
  const parts = jwt?.split(".") ?? [];
  if (parts.length !== 3 || !verifyEs256k(metadata.jwk, `${parts[0]}.${parts[1]}`, parts[2]!)) {
    throw new WalletError("invalid_credential", "The credential is not signed by the attestor.");
  }
  const payload = (await new SDJwtVcInstance({ hasher: sdJwtHasher }).decode(credential)).jwt?.payload;
  const holder = publicJwkOf(key.privateKey);
  const cnf = (payload?.cnf as { jwk?: { x?: unknown; y?: unknown } } | undefined)?.jwk;
  if (payload?.iss !== metadata.iss || cnf?.x !== holder.x || cnf?.y !== holder.y) {
    throw new WalletError("invalid_credential", "The credential is from another issuer or for another key.");
  }
}

/** Asks the attestor for `claims` and resolves with the credential once it is delivered and checked. */
export async function requestCredential(input: RequestCredentialInput): Promise<ReceivedCredential> {
  const endpoint = input.endpoint.replace(/\/+$/, "");
  const fetchOptions: WalletFetchOptions = {
    ...(input.fetch ? { fetch: input.fetch } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  };
  const metadata = await fetchAttestorMetadata(endpoint, fetchOptions);
  const deliveryKey = input.deliveryKey ?? (await generateDeliveryKey());
  const channel = walletChannel(await thumbprintOf(publicJwkOf(input.key.privateKey)));

  const client = createChannelsClient({
    endpoint,
    ...(input.fetch ? { fetch: input.fetch } : {}),
    authorize: async (socketId, name): Promise<ChannelAuthResponse> => {
      const proof = signWalletProof(input.key.privateKey, PROOF_TYPES.channel, {
        aud: metadata.iss,
        iat: nowSeconds(),
        socket_id: socketId,
        channel: name,
      });
      try {
        return (await post(
          `${endpoint}${ATTESTOR_API_PATHS.channelAuth}`,
          { socket_id: socketId, channel_name: name, proof },
          fetchOptions,
        )) as ChannelAuthResponse;
      } catch (error) {
        if (error instanceof WalletError) {
          throw new ChannelsClientError(error.code, error.message, { channel: name, cause: error });
        }
        throw error;
      }
    },
  });
  const deliveries = new Map<string, { jwe?: string; refused?: true }>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  try {
    const subscription = client.subscribe(channel);
    subscription.bind(WALLET_CHANNEL_EVENTS.credential, (data) => {
      const parsed = credentialDeliverySchema.safeParse(data);
      if (parsed.success) deliveries.set(parsed.data.requestId, { jwe: parsed.data.jwe });
      wake();
    });
    subscription.bind(WALLET_CHANNEL_EVENTS.refused, (data) => {
      const parsed = credentialRefusalSchema.safeParse(data);
      if (parsed.success) deliveries.set(parsed.data.requestId, { refused: true });
      wake();
    });
    await new Promise<void>((resolve, reject) => {
      if (subscription.isSubscribed()) return resolve();
      const timer = setTimeout(
        () => reject(new WalletError("timeout", "Could not subscribe to the wallet's channel.")),
        SUBSCRIBE_TIMEOUT_MS,
      );
      subscription.onSubscribed(() => {
        clearTimeout(timer);
        resolve();
      });
      subscription.onError((error) => {
        if (error.code === "timeout" || error.code === "network_error" || error.code === "unavailable") return;
        clearTimeout(timer);
        reject(new WalletError(error.code, error.message));
      });
    });

    // A request answered `unavailable` may have used its challenge: each try takes a new one.
    const { request } = await retryUnavailable(async () => {
      const challenge = (await postOnce(
        `${endpoint}${ATTESTOR_API_PATHS.challenges}`,
        {},
        fetchOptions,
      )) as ChallengeResponse;
      const proof = signWalletProof(input.key.privateKey, PROOF_TYPES.request, {
        aud: metadata.iss,
        iat: nowSeconds(),
        nonce: challenge.nonce,
        claims: input.claims,
        ...(input.email === undefined ? {} : { email: input.email }),
        delivery_jwk: deliveryKey.publicJwk,
      });
      return (await postOnce(`${endpoint}${ATTESTOR_API_PATHS.requests}`, { proof }, fetchOptions)) as {
        request: CredentialRequestView;
      };
    }, fetchOptions);
    input.onRequested?.(request);

    const delivered = await new Promise<{ jwe?: string; refused?: true }>((resolve, reject) => {
      const look = () => {
        const found = deliveries.get(request.id);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WalletError("timeout", "The credential did not arrive in time; ask again later."));
      }, input.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS);
      const onAbort = () => {
        cleanup();
        reject(new WalletError("cancelled", "Stopped waiting for the credential."));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(look);
        input.signal?.removeEventListener("abort", onAbort);
      };
      waiters.add(look);
      input.signal?.addEventListener("abort", onAbort);
      look();
    });
    if (delivered.refused || delivered.jwe === undefined) {
      throw new WalletError("claim_refused", "The attestor's admin refused this request.");
    }
    let credential: string;
    try {
      credential = await decryptCredential(delivered.jwe, deliveryKey.privateKey);
    } catch (cause) {
      throw new WalletError(
        "invalid_credential",
        "The delivered credential does not open with this wallet's key.",
        undefined,
        {
          cause,
        },
      );
    }
    await checkReceived(credential, metadata, input.key);
    return { requestId: request.id, credential, issuer: metadata.iss };
  } finally {
    client.close();
  }
}
