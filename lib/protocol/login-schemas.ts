import { z } from "zod";
import { MATCH_MODES, type AuthBody, type LoginRequest } from "./login";

/**
 * zod schemas for every input of section 1 (server) and the wallet's view of a
 * request. Kept apart from login.ts so browser bundles that need only the types and
 * event names (the widget) never pull zod in.
 */
const base64url = (bytes: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`));
export const sessionIdSchema = base64url(16);
export const browserSecretSchema = base64url(32);
export const oneTimeCodeSchema = base64url(32);
export const matchCodeSchema = z.string().regex(/^[1-9][0-9]$/);
export const claimNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);

export const loginStartSchema = z
  .strictObject({ requiredClaims: z.array(claimNameSchema).max(16).optional() })
  .optional();
export const loginResumeSchema = z.strictObject({ sessionId: sessionIdSchema, browserSecret: browserSecretSchema });
export const loginCancelSchema = loginResumeSchema;

export const authBodySchema = z.strictObject({
  sessionId: sessionIdSchema,
  message: z.string().min(1).max(8192),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  matchCode: matchCodeSchema,
  presentation: z.string().max(12_000).optional(),
});
export const denyBodySchema = z.strictObject({ sessionId: sessionIdSchema });
export const redeemBodySchema = z.strictObject({
  sessionId: sessionIdSchema,
  browserSecret: browserSecretSchema,
  code: oneTimeCodeSchema,
});

export const loginRequestSchema = z.object({
  sessionId: sessionIdSchema,
  appName: z.string().max(200),
  domain: z.string().min(1).max(255),
  uri: z.string().url().max(2048),
  version: z.literal("1"),
  chainId: z.number().int().positive(),
  nonce: z.string().regex(/^[A-Za-z0-9]{8,64}$/),
  issuedAt: z.string(),
  expirationTime: z.string(),
  statement: z.string().max(1000),
  requestId: z.string().max(200),
  responseUri: z.string().url().max(2048),
  // A server from before match modes sends none: it offers choices.
  matchMode: z.enum(MATCH_MODES).default("choose"),
  // Three to choose from, none to type: see hasMatchChoicesOfItsMode.
  matchChoices: z.array(matchCodeSchema).max(3),
  requiredClaims: z.array(z.string()).max(16),
});

/** Three different choices in `choose` mode, none in `type` mode (a check beside the schema, which others extend). */
export function hasMatchChoicesOfItsMode(request: { matchMode: string; matchChoices?: readonly string[] }): boolean {
  const choices = request.matchChoices ?? [];
  return request.matchMode === "choose" ? new Set(choices).size === 3 && choices.length === 3 : choices.length === 0;
}

// The schemas and the hand-written wire types must agree.
export type _AuthBodyMatches = z.infer<typeof authBodySchema> extends AuthBody ? true : never;
export type _LoginRequestMatches = z.infer<typeof loginRequestSchema> extends LoginRequest ? true : never;
