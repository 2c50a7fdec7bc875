/**
 * The partners page's calls to `/api/apps` with the signed-in user's access token.
 * Types only from lib/protocol/data, so the page's bundle carries no zod.
 */
import { APP_NAME_MAX_LENGTH, DATA_API_PATHS } from "../../lib/protocol/data";
import type {
  AppResponse,
  AppSummary,
  CreateAppBody,
  CreateAppResponse,
  ListAppsResponse,
} from "../../lib/protocol/data";

export class AppsApiError extends Error {
  override readonly name = "AppsApiError";
  constructor(
    /** The server's error code, or `network_error`. */
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const FRIENDLY: Record<string, string> = {
  invalid_request: `Check the name (1-${APP_NAME_MAX_LENGTH} characters) and the address (0x and 40 hex digits).`,
  invalid_token: "Your session has ended. Sign in again.",
  forbidden: "This app belongs to someone else.",
  not_found: "This app no longer exists.",
  rate_limited: "Too many requests. Wait a moment and try again.",
};

async function call<T>(path: string, accessToken: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json", ...init.headers },
    });
  } catch {
    throw new AppsApiError("network_error", "The server could not be reached. Check the connection and try again.", 0);
  }
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!response.ok) {
    const code = body?.error?.code ?? "http_error";
    throw new AppsApiError(
      code,
      (Object.hasOwn(FRIENDLY, code) ? FRIENDLY[code] : undefined) ??
        body?.error?.message ??
        `The server answered ${response.status}.`,
      response.status,
    );
  }
  return body as T;
}

export async function fetchApps(accessToken: string): Promise<AppSummary[]> {
  return (await call<ListAppsResponse>(DATA_API_PATHS.apps, accessToken)).apps;
}

export function registerApp(accessToken: string, body: CreateAppBody): Promise<CreateAppResponse> {
  return call<CreateAppResponse>(DATA_API_PATHS.apps, accessToken, { method: "POST", body: JSON.stringify(body) });
}

export async function changeAppActive(accessToken: string, appId: string, isActive: boolean): Promise<AppSummary> {
  const path = isActive ? DATA_API_PATHS.enableApp(appId) : DATA_API_PATHS.disableApp(appId);
  return (await call<AppResponse>(path, accessToken, { method: "POST", body: "{}" })).app;
}
