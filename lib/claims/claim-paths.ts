/**
 * Claim paths (docs/protocol.md section 4.2): how a login's `requiredClaims` names a claim
 * inside an object or an array of an SD-JWT VC. Browser-safe (the wallet page uses it).
 *
 * Syntax: segments joined by `.`, e.g. `email`, `address.country`, `nationalities.0`,
 * `degrees.1.title`. In an object a segment is a member name; in an array a segment of
 * digits (`0`, `12`, no leading zero) is the element's position in the array AS ISSUED. A
 * member name holding a `.` cannot be addressed. These are the key paths @sd-jwt uses.
 *
 * API:
 * - parseClaimPath(path): its segments, or null when it is not a path.
 * - disclosureFrameFor(claims): the issuer's frame making every member and every array
 *   element, at every depth, selectively disclosable.
 * - presentationFrameFor(presentableKeys, paths): the holder's frame disclosing each path,
 *   the objects and arrays on the way to it, and everything under it.
 * - isPathDisclosed(path, disclosedKeys, claims): whether a verified presentation discloses
 *   the path: its own disclosure is presented (`disclosedKeys`, original positions), or, for
 *   a path without array positions, it is present in the claims as not selectively disclosable.
 */

export const MAX_CLAIM_PATH_DEPTH = 8;
const SEGMENT = /^[A-Za-z0-9_:-]{1,64}$/;

export function parseClaimPath(path: string): string[] | null {
  const segments = path.split(".");
  if (segments.length > MAX_CLAIM_PATH_DEPTH || !segments.every((segment) => SEGMENT.test(segment))) return null;
  return segments;
}

type Frame = { _sd?: Array<string | number> } & { [key: string]: unknown };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every member and array element selectively disclosable, recursively. */
export function disclosureFrameFor(value: unknown): Frame | undefined {
  if (Array.isArray(value)) {
    const frame: Frame = { _sd: value.map((_, index) => index) };
    value.forEach((element, index) => {
      const inner = disclosureFrameFor(element);
      if (inner) frame[String(index)] = inner;
    });
    return value.length > 0 ? frame : undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const names = Object.keys(value);
  if (names.length === 0) return undefined;
  const frame: Frame = { _sd: names };
  for (const name of names) {
    const inner = disclosureFrameFor(value[name]);
    if (inner) frame[name] = inner;
  }
  return frame;
}

/** The presentation frame for `paths` among the credential's presentable keys. */
export function presentationFrameFor(presentableKeys: readonly string[], paths: readonly string[]) {
  const chosen = presentableKeys.filter((key) =>
    paths.some((path) => key === path || key.startsWith(`${path}.`) || path.startsWith(`${key}.`)),
  );
  const frame: Record<string, unknown> = {};
  for (const key of chosen) {
    let node = frame;
    const segments = key.split(".");
    segments.forEach((segment, i) => {
      if (i === segments.length - 1) {
        if (!isPlainObject(node[segment])) node[segment] = true;
        return;
      }
      if (!isPlainObject(node[segment])) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    });
  }
  return frame;
}

/** Whether a verified presentation discloses `path` (see the module's comment). */
export function isPathDisclosed(
  path: string,
  disclosedKeys: ReadonlySet<string>,
  claims: Record<string, unknown>,
): boolean {
  if (disclosedKeys.has(path)) return true;
  const segments = parseClaimPath(path);
  if (!segments) return false;
  let node: unknown = claims;
  for (const segment of segments) {
    // Disclosed arrays are compacted: a position is trusted only through its own disclosure.
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return false;
    node = node[segment];
  }
  return node !== undefined;
}
