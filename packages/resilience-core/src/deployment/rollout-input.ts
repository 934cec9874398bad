import { z } from 'zod';
import { errors } from '../errors.ts';
import { ID_PATTERN } from '../ids.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { type RolloutPolicy, rolloutPolicySchema } from './rollout-policy.ts';

/** A code bundle as accepted at the edge (see `CodeBundle`). */
export const codeBundleSchema = lazySchema(() =>
  z.object({
    archive: z
      .instanceof(Uint8Array, { message: 'must be the tar.gz bytes' })
      .refine((a) => a.byteLength > 0, 'must not be empty')
      .refine((a) => a.byteLength <= 100 * 1024 * 1024, 'must be at most 100 MB'),
    entrypoint: z.string().min(1).max(1024),
    commands: z.string().max(8000).optional(),
    filename: z
      .string()
      .regex(/^[\w.-]+\.tar\.gz$/)
      .optional(),
  }),
);

const functionId = lazySchema(() =>
  z.string().regex(ID_PATTERN, 'must be an Appwrite id (1–36 of a-z A-Z 0-9 . _ -)'),
);

/** Input of `RolloutOrchestrator.start`. Give `code`, or `deploymentId` of an existing built deployment (or both). */
export const startRolloutInputSchema = lazySchema(() =>
  z
    .object({
      /** The live function to roll out. */
      functionId,
      /** The new code, uploaded as an inactive deployment. */
      code: codeBundleSchema.optional(),
      /** Roll out an existing (inactive) deployment of the function instead of uploading. */
      deploymentId: functionId.optional(),
      /** The standby twin; default `<functionId>-standby`. */
      standbyFunctionId: functionId.optional(),
      /** Skip pre-switch validation on the twin (said so in the result and history). Default false. */
      skipHealthCheck: z.boolean().default(false),
      /** Reactivate blue by itself when the watch fails. Default true. */
      autoRollback: z.boolean().default(true),
      /** Thresholds and deadlines (defaults in `rollout-policy.ts`). */
      policy: z.unknown().optional(),
    })
    .strict()
    .refine((v) => v.code !== undefined || v.deploymentId !== undefined, {
      message: 'give the new code or the id of an existing deployment',
      path: ['code'],
    }),
);

/** Start input with defaults applied. */
export type StartRolloutInput = z.output<typeof startRolloutInputSchema>;

/** Parses start input; bad input is `INVALID_INPUT` listing every field problem. */
export function parseStartInput(raw: unknown): StartRolloutInput & { parsedPolicy: RolloutPolicy } {
  const parsed = startRolloutInputSchema.safeParse(raw);
  if (!parsed.success) throw errors.invalidInput('invalid rollout request', issuesOf(parsed.error));
  return { ...parsed.data, parsedPolicy: parseRolloutPolicy(parsed.data.policy) };
}

/** Parses a policy (undefined = all defaults); bad thresholds are `INVALID_INPUT` with `policy.*` paths. */
export function parseRolloutPolicy(raw: unknown): RolloutPolicy {
  const parsed = rolloutPolicySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw errors.invalidInput(
      'invalid rollout policy',
      issuesOf(parsed.error).map((i) => ({ ...i, path: i.path ? `policy.${i.path}` : 'policy' })),
    );
  }
  return parsed.data;
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}
