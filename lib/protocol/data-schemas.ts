import { z } from "zod";
import { APP_NAME_MAX_LENGTH, DATA_DEFAULT_LIMIT, DATA_LIMIT_MAX, MAX_DATA_BODY_BYTES } from "./data";
import type { AppSummary, CreateAppBody, DataMetaRequest } from "./data";

/** zod schemas for every input of section 3 (server, CLI) and for checking answers (SDK). */
const hex = (bytes: number) => new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
export const signatureHexSchema = z.string().regex(hex(65));
export const hashHexSchema = z.string().regex(hex(32));
export const addressSchema = z.string().regex(hex(20));

// Seconds since the epoch; the bound keeps milliseconds (or nonsense) from passing as seconds.
const epochSeconds = z.number().nonnegative().max(1e11);

export const dataMetaSchema = z.object({
  limit: z.number().int().min(1).max(DATA_LIMIT_MAX).default(DATA_DEFAULT_LIMIT),
  page: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1),
});

/** The fields the server reads; any other field is allowed and kept out of the result. */
export const dataMessageSchema = z.object({
  appId: z.string().min(1).max(64),
  iat: epochSeconds,
  exp: epochSeconds,
  metaData: dataMetaSchema.default({ limit: DATA_DEFAULT_LIMIT, page: 1 }),
});
export type ParsedDataMessage = z.infer<typeof dataMessageSchema>;

/** `message` is a JSON object or the signed text itself; its fields are checked afterwards. */
export const dataRequestBodySchema = z.object({
  message: z.union([z.string().min(2).max(MAX_DATA_BODY_BYTES), z.record(z.string(), z.unknown())]),
  fyresign: signatureHexSchema,
  messageHash: hashHexSchema.optional(),
});

const appNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(APP_NAME_MAX_LENGTH)
  // No control characters: names are shown in pages and CLI tables.
  .regex(/^[^\p{Cc}]*$/u);

export const createAppBodySchema = z.strictObject({
  name: appNameSchema,
  address: addressSchema.optional(),
});

export const appIdSchema = z.string().min(1).max(64);

const isoString = z.string();
export const appSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  active: z.boolean(),
  createdAt: isoString,
  lastUsedAt: isoString.nullable(),
});

export const dataPageMetaSchema = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  pages: z.number().int(),
});

// The schemas and the hand-written wire types must agree.
export type _DataMetaMatches = z.infer<typeof dataMetaSchema> extends DataMetaRequest ? true : never;
export type _AppSummaryMatches = z.infer<typeof appSummarySchema> extends AppSummary ? true : never;
export type _CreateAppBodyMatches = z.infer<typeof createAppBodySchema> extends CreateAppBody ? true : never;
