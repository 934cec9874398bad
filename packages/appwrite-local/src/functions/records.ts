/**
 * What the functions module persists, one zod schema per record. Times are epoch milliseconds (rendered as
 * ISO-8601 by models.ts); field names follow Appwrite's models so rendering is a projection.
 */
import { z } from 'zod';

/** A function (the `Function` model without its variables). */
export const functionRecordSchema = z.object({
  $id: z.string(),
  /** Epoch ms. */
  $createdAt: z.number(),
  /** Epoch ms. */
  $updatedAt: z.number(),
  name: z.string(),
  /** e.g. `node-22`; every Node runtime runs on the server's own Node. */
  runtime: z.string(),
  /** Roles allowed to execute; `[]` = API keys only. */
  execute: z.array(z.string()),
  /** Event patterns that trigger it, e.g. `databases.*.tables.*.rows.*.create`. */
  events: z.array(z.string()),
  /** 5-field cron (UTC), `''` = none. */
  schedule: z.string(),
  /** Seconds, 1–900, default 15. */
  timeout: z.number().int(),
  enabled: z.boolean(),
  logging: z.boolean(),
  /** Relative to the deployment root, e.g. `dist/main.js`. */
  entrypoint: z.string(),
  /** Build command run with bash; `''` = none. */
  commands: z.string(),
  /** Scopes of the dynamic `x-appwrite-key` handed to executions. */
  scopes: z.array(z.string()),
  /** Runtime specification slug (specifications.ts). */
  specification: z.string(),
  /** Build specification slug; absent in records written before it was kept apart (= `specification`). */
  buildSpecification: z.string().optional(),
  /** Days to keep inactive deployments; 0 = forever (stored, not enforced). */
  deploymentRetention: z.number().int(),
  /** The active deployment, `''` when none. */
  deploymentId: z.string(),
  /** Epoch ms of the active deployment's creation, 0 when none. */
  deploymentCreatedAt: z.number(),
  latestDeploymentId: z.string(),
  latestDeploymentCreatedAt: z.number(),
  latestDeploymentStatus: z.string(),
  /** False after a settings change that needs a redeploy. */
  live: z.boolean(),
});
/** A stored function. */
export type FunctionRecord = z.infer<typeof functionRecordSchema>;

/** Deployment statuses, in lifecycle order. */
export const DEPLOYMENT_STATUSES = [
  'waiting',
  'processing',
  'building',
  'ready',
  'canceled',
  'failed',
] as const;

/** A deployment of a function. */
export const deploymentRecordSchema = z.object({
  $id: z.string(),
  $createdAt: z.number(),
  $updatedAt: z.number(),
  functionId: z.string(),
  /** Entrypoint and commands as given at upload (falling back to the function's). */
  entrypoint: z.string(),
  commands: z.string(),
  /** Activate automatically once ready (if newer than the active one). */
  activate: z.boolean(),
  status: z.enum(DEPLOYMENT_STATUSES),
  buildLogs: z.string(),
  /** Whole seconds the build took. */
  buildDuration: z.number().int(),
  /** Bytes of the uploaded archive. */
  sourceSize: z.number().int(),
  /** Bytes of the built code directory. */
  buildSize: z.number().int(),
  /** Chunked uploads: chunks expected and received so far (1/1 for a single upload). */
  chunksTotal: z.number().int(),
  chunksUploaded: z.number().int(),
  /** `manual` (SDK/CLI upload) or `duplicate`-created copies keep `manual`. */
  type: z.string(),
});
/** A stored deployment. */
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

/** Execution triggers. */
export const TRIGGERS = ['http', 'schedule', 'event'] as const;
/** Execution statuses. */
export const EXECUTION_STATUSES = ['waiting', 'processing', 'completed', 'failed', 'scheduled'] as const;

const headerSchema = z.object({ name: z.string(), value: z.string() });

/** An execution. The request body is kept (base64) only until a queued or scheduled execution has run. */
export const executionRecordSchema = z.object({
  $id: z.string(),
  $createdAt: z.number(),
  $updatedAt: z.number(),
  $permissions: z.array(z.string()),
  functionId: z.string(),
  /** The deployment it ran (or will run) on; `''` until a scheduled execution starts. */
  deploymentId: z.string(),
  trigger: z.enum(TRIGGERS),
  status: z.enum(EXECUTION_STATUSES),
  requestMethod: z.string(),
  /** Path and query string. */
  requestPath: z.string(),
  requestHeaders: z.array(headerSchema),
  responseStatusCode: z.number().int(),
  responseHeaders: z.array(headerSchema),
  logs: z.string(),
  errors: z.string(),
  /** Seconds (float). */
  duration: z.number(),
  /** Epoch ms, or null when it runs at once. */
  scheduledAt: z.number().nullable(),
  /** The event name for event triggers, `''` otherwise. */
  event: z.string(),
  /** Pending request body, base64; cleared once the execution runs. */
  pendingBody: z.string().optional(),
  /** Pending caller headers (raw), cleared once the execution runs. */
  pendingHeaders: z.record(z.string(), z.string()).optional(),
  /** The user a queued or scheduled execution runs for (`x-appwrite-user-id`), cleared once it runs. */
  pendingUserId: z.string().optional(),
});
/** A stored execution. */
export type ExecutionRecord = z.infer<typeof executionRecordSchema>;

/** A function variable. */
export const variableRecordSchema = z.object({
  $id: z.string(),
  $createdAt: z.number(),
  $updatedAt: z.number(),
  key: z.string(),
  value: z.string(),
  /** Secret values are never returned by the API. */
  secret: z.boolean(),
  resourceType: z.literal('function'),
  resourceId: z.string(),
});
/** A stored variable. */
export type VariableRecord = z.infer<typeof variableRecordSchema>;
