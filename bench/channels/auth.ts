/** Channel auth: POST /api/channel-auth beside GET /api/health on our server, with autocannon. */
import path from "node:path";
import { createLoginClient } from "../../lib/client/login-client";
import { signChannelAuth } from "../../lib/sdk/node";
import { approveLogin, createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import { measureThroughput } from "../http-throughput";
import { countError } from "../stats";
import type { ServerUnderTest } from "./servers";
import { AUTH_CHANNEL, AUTH_SOCKET_ID, round2 } from "./shared";
import type { ChannelAuthMeasurement, ChannelsBenchOptions } from "./types";

// ---------------------------------------------------------------- channel auth

/** A real QR login through lib/client (browser) and lib/wallet (phone): the access token. */
async function logIn(url: string): Promise<{ accessToken: string; userId: string }> {
  const client = createLoginClient({ endpoint: url, ackTimeoutMs: 10_000 });
  try {
    const session = await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 10_000 });
    const loginRequest = await fetchLoginRequest(session.qr);
    await approveLogin({ key: createWalletKey(), request: loginRequest, matchCode: session.matchCode });
    await approved;
    const redeemed = await client.redeem();
    return { accessToken: redeemed.accessToken, userId: redeemed.user.id };
  } finally {
    client.close();
  }
}

export async function measureChannelAuth(
  server: ServerUnderTest,
  options: ChannelsBenchOptions,
  profiles: Record<string, string>,
): Promise<ChannelAuthMeasurement> {
  const credentials = server.credentials!;
  const errors: Record<string, number> = {};
  const { accessToken, userId } = await logIn(server.handle.url);
  const url = `${server.handle.url}/api/channel-auth`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${accessToken}` };
  const body = JSON.stringify({ socket_id: AUTH_SOCKET_ID, channel_name: AUTH_CHANNEL });
  // One answer checked in full: the signature the official SDKs would compute, over channel_data.
  const response = await fetch(url, { method: "POST", headers, body });
  const answer = (await response.json()) as { auth?: string; channel_data?: string };
  const member = answer.channel_data ? (JSON.parse(answer.channel_data) as { user_id?: string }) : {};
  if (
    response.status !== 200 ||
    member.user_id !== userId ||
    answer.auth !== signChannelAuth(credentials, AUTH_SOCKET_ID, AUTH_CHANNEL, answer.channel_data)
  ) {
    countError(errors, `channel-auth answered ${response.status} ${JSON.stringify(answer)}`);
  }
  /** autocannon's warm-up, then the measured run with the server's CPU read around it. */
  const measure = async (
    target: string,
    extra: { method?: "POST"; headers?: Record<string, string>; body?: string },
  ) => {
    await measureThroughput(target, {
      ...options.http,
      ...extra,
      seconds: options.http.warmupSeconds,
      warmupSeconds: 0,
    });
    const cpuBefore = await server.handle.readCpuSeconds();
    const result = await measureThroughput(target, { ...options.http, ...extra, warmupSeconds: 0 });
    const cpuSeconds = (await server.handle.readCpuSeconds()) - cpuBefore;
    return { result, cores: round2(cpuSeconds / options.http.seconds) };
  };
  const health = await measure(`${server.handle.url}/api/health`, {});
  const profilePath = options.cpuProfileDir
    ? path.join(options.cpuProfileDir, "server-channel-auth.cpuprofile")
    : undefined;
  if (profilePath) await server.handle.startProfile();
  const authRun = await measure(url, { method: "POST", headers, body });
  const [apiHealth, channelAuth] = [health.result, authRun.result];
  if (profilePath) {
    await server.handle.stopProfile(profilePath);
    profiles["POST /api/channel-auth (autocannon, warm-up included)"] = profilePath;
  }
  for (const [name, result] of [
    ["GET /api/health", apiHealth],
    ["POST /api/channel-auth", channelAuth],
  ] as const) {
    countError(errors, `${name}: autocannon errors`, result.errors + result.timeouts);
    countError(errors, `${name}: non-2xx`, result.non2xx);
  }
  return {
    channelAuth,
    apiHealth,
    channelAuthServerCpuCores: authRun.cores,
    apiHealthServerCpuCores: health.cores,
    errors,
  };
}
