export * from './burn-rate.ts';
export * from './evaluate-slo.ts';
export * from './execution-counter.ts';
export * from './function-slos.ts';
export * from './prometheus.ts';
export * from './slo-alerts.ts';
export * from './slo-spec.ts';
