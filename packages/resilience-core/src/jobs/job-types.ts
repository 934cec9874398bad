import type { z } from 'zod';
import type { BackoffPolicy } from './backoff.ts';

/** Per-type defaults applied at enqueue when the caller does not say otherwise. */
export interface JobTypeDefaults {
  /** Default 0 (lower runs first). */
  priority?: number;
  /** Default 3. */
  maxRetries?: number;
  /** Lease (and time limit) per attempt, ms. Default 30,000. */
  leaseMs?: number;
  backoff?: Partial<BackoffPolicy>;
}

/**
 * A job type the queue accepts: its name, the zod schema every payload must satisfy at enqueue (and again
 * when a worker runs it), and defaults. Handlers are registered separately on the worker side
 * ({@link JobQueue.registerHandler}), so an enqueuing function needs the schema but not the handler's deps.
 */
export interface JobTypeSpec<S extends z.ZodType = z.ZodType> {
  type: string;
  payload: S;
  defaults?: JobTypeDefaults;
  /** One line for humans (docs, metrics). */
  description?: string;
}

/** Declares a job type with its payload schema; the type of the payload is inferred from the schema. */
export function defineJobType<S extends z.ZodType>(spec: JobTypeSpec<S>): JobTypeSpec<S> {
  return spec;
}
