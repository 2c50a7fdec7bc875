/** For the widget's server-rendered view tests: a store in a given state, and the HTML read back as text. */
import type { StoreApi } from "zustand/vanilla";
import type { LoginClient } from "../../lib/client/login-client";

/**
 * A store made by `create` in `state`. Server rendering reads the initial state, so it is made to
 * be this one; the store may not open a socket.
 */
export function storeIn<S>(
  create: (deps: { createClient: () => LoginClient; now: () => number }) => StoreApi<S>,
  state: NoInfer<Partial<S>>,
  now: number,
): StoreApi<S> {
  const store = create({
    createClient: () => {
      throw new Error("rendering must not open a socket");
    },
    now: () => now,
  });
  store.setState(state);
  return { ...store, getInitialState: store.getState };
}

/** The text a reader gets: no tags, no styles, one space between words. */
export function textOf(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#x27;/g, "'")
    .replace(/\s+/g, " ")
    .trim();
}

/** The text of the widget's polite live region. */
export function liveRegion(html: string): string {
  const match = /<div class="qrl-status" aria-live="polite" aria-atomic="true">([\s\S]*?)<\/div>/.exec(html);
  if (!match?.[1]) throw new Error("no aria-live region");
  return textOf(match[1]);
}
