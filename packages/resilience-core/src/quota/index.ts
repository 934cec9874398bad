/** The quota service: atomic per-organization quotas with windows, limits, reservations, alerts and resets. */
export * from './alerts.ts';
export * from './increase-requests.ts';
export * from './limits.ts';
export * from './middleware.ts';
export * from './notifier.ts';
export * from './quota-service.ts';
export * from './quota-types.ts';
export * from './recognition-hooks.ts';
export * from './report.ts';
export * from './reset.ts';
export * from './rows.ts';
export * from './tables.ts';
export * from './time.ts';
export * from './windows.ts';
