/** The /attestor/admin page's calls to the admin routes (docs/protocol.md sections 6.4 and 6.5). */

const ERRORS: Record<string, string> = {
  forbidden: "This account is not an admin (ADMIN_ADDRESSES).",
  invalid_token: "Your session has ended. Sign in again.",
  request_decided: "Someone decided this request already.",
  attestor_not_hosted: "This attestor's key is not kept here: its owner rotates it.",
  not_found: "That is gone (removed on another node or with the CLI).",
};

export const SESSION_ENDED = ERRORS.invalid_token!;

/** A Bearer call; a documented error becomes an Error with a sentence for the admin. */
export async function adminCall<T>(token: string, path: string, method: "GET" | "POST" = "GET"): Promise<T> {
  const response = await fetch(path, { method, headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json().catch(() => null)) as (T & { error?: { code: string; message: string } }) | null;
  if (!response.ok) {
    const code = body?.error?.code ?? "http_error";
    throw new Error(ERRORS[code] ?? body?.error?.message ?? `The server answered ${response.status}.`);
  }
  return body as T;
}
