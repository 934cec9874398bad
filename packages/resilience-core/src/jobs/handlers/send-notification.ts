import { z } from 'zod';
import { lazySchema } from '../../schema/lazy-schema.ts';
import type { TraceContext } from '../../tracing/trace-context.ts';
import { defineJobType } from '../job-types.ts';
import type { EnqueueInput, EnqueueResult, JobContext, JobQueue } from '../queue.ts';

/**
 * `send-notification`: the deferred path of notifications. When a channel's circuit breaker is open the
 * caller enqueues the message instead of dropping it ({@link enqueueNotification}); a worker sends it later
 * through the notifier, with the queue's retries and backoff on top of the breaker.
 */
export const sendNotificationPayload = lazySchema(() =>
  z
    .object({
      /** Channel name as the notifier knows it, e.g. `slack`, `teams`, `email`. */
      channel: z.string().min(1).max(32),
      /** The message text. */
      text: z.string().min(1).max(4000),
      /** Optional title/subject. */
      title: z.string().max(200).optional(),
      /** What the notification is about, e.g. the recognition id. */
      subjectId: z.string().max(36).optional(),
    })
    .strict(),
);

/** A `send-notification` payload. */
export type NotificationPayload = z.infer<typeof sendNotificationPayload>;

/** The `send-notification` job type. */
export const sendNotificationType = defineJobType({
  type: 'send-notification',
  payload: sendNotificationPayload,
  description: 'Sends a notification deferred while its channel was unavailable',
  defaults: { priority: 0, maxRetries: 8, leaseMs: 30_000, backoff: { baseMs: 5000, maxMs: 900_000 } },
});

/**
 * Sends one notification (the notifier, behind its breaker); throws when it could not. `trace` is the job's
 * trace (the enqueuing request's, continued by the worker): the webhook call carries a child span of it.
 */
export type SendNotification = (
  payload: NotificationPayload,
  context: { orgId: string; jobId: string; signal: AbortSignal; trace?: TraceContext },
) => Promise<unknown>;

/** Builds the `send-notification` handler over a sender. */
export function createSendNotificationHandler(send: SendNotification) {
  // `trace` is the job's trace context where the queue provides one (helper `jobs`: JobContext.trace).
  return async (payload: NotificationPayload, ctx: JobContext & { trace?: TraceContext }) => {
    const receipt = await send(payload, {
      orgId: ctx.orgId,
      jobId: ctx.jobId,
      signal: ctx.signal,
      ...(ctx.trace ? { trace: ctx.trace } : {}),
    });
    return { channel: payload.channel, sent: true, receipt: receipt ?? null };
  };
}

/**
 * Queues a notification for later delivery. Pass an `idempotencyKey` (e.g. `${recognitionId}:${channel}`) so
 * a retried request defers it once, `delayMs` to honour a webhook's Retry-After, and the deferring span's
 * `traceparent` so the worker's delivery continues its trace.
 */
export function enqueueNotification(
  queue: Pick<JobQueue, 'enqueue'>,
  orgId: string,
  payload: NotificationPayload,
  options: { idempotencyKey?: string; delayMs?: number; traceparent?: string } = {},
): Promise<EnqueueResult> {
  // `traceparent` is the queue's enqueue option where it has one (helper `jobs`); a typed variable, not a literal.
  const input: EnqueueInput & { traceparent?: string } = {
    orgId,
    type: sendNotificationType.type,
    payload,
    ...options,
  };
  return queue.enqueue(input);
}
