import { z } from 'zod';
import { ResilienceError } from '../errors.ts';
import { lazySchema } from '../schema/lazy-schema.ts';
import { zodIssues } from './responses.ts';

/**
 * The variables every function reads (platform notes §A5). Endpoint and project are optional so a bundle can
 * load and answer `/health` anywhere; the kit fails a request that needs Appwrite when they are missing.
 */
export const baseEnvSchema = lazySchema(() =>
  z.object({
    /** `https://<host>/v1`, set by Appwrite at run time. */
    APPWRITE_FUNCTION_API_ENDPOINT: z.url().optional(),
    APPWRITE_FUNCTION_PROJECT_ID: z.string().min(1).optional(),
    /** The running deployment id (blue or green). `local` outside Appwrite. */
    APPWRITE_FUNCTION_DEPLOYMENT: z.string().min(1).default('local'),
    APPWRITE_FUNCTION_ID: z.string().optional(),
    /**
     * Fallback key for local runs (the dynamic `x-appwrite-key` header wins when present). Never logged; set it
     * as a secret function variable only if the function must call Appwrite outside an execution's key.
     */
    APPWRITE_API_KEY: z.string().min(1).optional(),
    /** `debug` also writes routine events (expected storage answers such as a lost claim race). Default `info`. */
    LOG_LEVEL: z.enum(['debug', 'info']).default('info'),
  }),
);

/** The parsed base environment. */
export type BaseEnv = z.infer<typeof baseEnvSchema>;

/**
 * The env keys that hold secrets: their values are scrubbed from every log line. Webhook URLs count: a Slack or
 * Teams incoming-webhook URL is a bearer credential (its path is the token).
 */
export function secretValues(env: Record<string, unknown>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => typeof v === 'string' && /(KEY|SECRET|TOKEN|PASSWORD|JWT|WEBHOOK)/i.test(k))
    .map(([, v]) => v as string);
}

/**
 * Parses `source` (normally `process.env`) against the base schema merged with the function's own schema.
 * Fails with INTERNAL listing the bad variables by name (values are never echoed).
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S | undefined,
  source: Record<string, string | undefined>,
): z.output<S> & BaseEnv {
  const merged = schema ? baseEnvSchema.extend(schema.shape) : baseEnvSchema;
  const result = merged.safeParse(source);
  if (!result.success) {
    const issues = zodIssues(result.error).map((i) => ({ path: i.path, message: 'missing or invalid' }));
    throw new ResilienceError(
      'INTERNAL',
      `Function environment invalid: ${issues.map((i) => i.path).join(', ')}`,
      {
        issues,
      },
    );
  }
  return result.data as z.output<S> & BaseEnv;
}
