import { composeHooks, type RecognitionHooks } from 'resilience-core/app';
import type { SetupContext } from 'resilience-core/runtime';
import { notificationHooks } from './routes/notifications.ts';
import { quotaHooks } from './routes/quota.ts';

/**
 * Recognition hook factories, run in this order for every recognition: each gets the execution's setup
 * context (store, clock, env, log…) and returns hooks (see `RecognitionHooks` in resilience-core:
 * `beforeCreate` for quota admission, `afterCreate` for notifications/jobs). Services add ONE line here.
 */
export const hookFactories: Array<(ctx: SetupContext) => RecognitionHooks> = [quotaHooks, notificationHooks];

/** The composed hooks for one execution. */
export function hooksFor(ctx: SetupContext): RecognitionHooks {
  return composeHooks(...hookFactories.map((make) => make(ctx)));
}
