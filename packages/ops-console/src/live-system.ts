import { type Client, Functions } from 'node-appwrite';
import { type Clock, systemClock, type TableStore } from 'resilience-core';
import {
  appwriteExecutionCounter,
  createAppwriteClient,
  createAppwriteFunctionsPlatform,
  createAppwriteTableStore,
} from 'resilience-core/adapters/appwrite';
import { CircuitBreakerRegistry } from 'resilience-core/circuit-breaker';
import {
  countingPlatform,
  createSloGate,
  type FunctionsPlatform,
  type RolloutEvent,
  RolloutOrchestrator,
} from 'resilience-core/deployment';
import { createJobQueue, enqueueNotification, type JobQueue, productJobTypes } from 'resilience-core/jobs';
import { createWebhookNotifier, queueDeferral, webhooksFromEnv } from 'resilience-core/notify';
import { createQuotaService, type QuotaService } from 'resilience-core/quota';
import {
  type ExecutionCounter,
  FUNCTION_SLOS,
  memoryAlertLedger,
  notifierAlertSender,
  type SloAlertLedger,
  type SloAlertSender,
  type SloSpec,
} from 'resilience-core/slo';

/** Where the console reads and acts: the Appwrite named by endpoint, project and key (the key never leaves). */
export interface OpsConnection {
  endpoint: string;
  projectId: string;
  /** API key. Kept in this process; never sent to the browser, never logged. */
  key: string;
}

/** API calls made so far, per area (for "round trips per refresh"). */
export interface CallCounter {
  total: number;
  byArea: Record<string, number>;
}

/**
 * The live system as the console sees it: the same core services the functions use (TableStore over TablesDB,
 * the breaker registry, the job queue, the quota service, the rollout orchestrator, the SLO gate and alerter),
 * over one node-appwrite Client, with every API call counted.
 */
export interface LiveSystem {
  connection: Omit<OpsConnection, 'key'>;
  clock: Clock;
  store: TableStore;
  platform: FunctionsPlatform;
  functions: Functions;
  breakers: CircuitBreakerRegistry;
  queue: JobQueue;
  /** A fresh quota service (it caches each org's limits for its lifetime: one per refresh or action). */
  quotaService(): QuotaService;
  orchestrator: RolloutOrchestrator;
  counter: ExecutionCounter;
  slos: readonly SloSpec[];
  /** SLO alerts: where they go (`channels` empty = no webhook configured: computed, not sent). */
  alerts: { sender: SloAlertSender; ledger: SloAlertLedger; channels: readonly string[] };
  calls: CallCounter;
  /** Rollout history entries as this process's runs write them. */
  onRolloutEvent: Set<(event: RolloutEvent) => void>;
}

/** Options of {@link createLiveSystem}. */
export interface LiveSystemOptions {
  clock?: Clock;
  slos?: readonly SloSpec[];
  /** Webhook variables (NOTIFY_SLACK_WEBHOOK_URL, NOTIFY_TEAMS_WEBHOOK_URL) for SLO alerts. Default process.env. */
  env?: Record<string, string | undefined>;
}

/** Wraps an object so every method call is counted under `area`. */
function counted<T extends object>(target: T, area: string, calls: CallCounter): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        calls.total++;
        calls.byArea[area] = (calls.byArea[area] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
}

/** Builds the live system over `connection`. */
export function createLiveSystem(connection: OpsConnection, options: LiveSystemOptions = {}): LiveSystem {
  const clock = options.clock ?? systemClock;
  const calls: CallCounter = { total: 0, byArea: {} };
  const client: Client = createAppwriteClient(connection);
  const store = counted(createAppwriteTableStore(connection), 'tables', calls);
  const platform = countingPlatform(counted(createAppwriteFunctionsPlatform({ client }), 'functions', calls));
  const functions = counted(new Functions(client), 'functions', calls);
  const breakers = new CircuitBreakerRegistry({ store, clock });
  const queue = createJobQueue({ store, clock, types: productJobTypes });
  const onRolloutEvent = new Set<(event: RolloutEvent) => void>();
  const counter = appwriteExecutionCounter(client, () => {
    calls.total++;
    calls.byArea.executions = (calls.byArea.executions ?? 0) + 1;
  });
  const slos = options.slos ?? FUNCTION_SLOS;
  const orchestrator = new RolloutOrchestrator({
    store,
    platform,
    clock,
    owner: `ops-console-${process.pid}`,
    onEvent: (event) => {
      for (const listener of onRolloutEvent) listener(event);
    },
    sloGate: createSloGate({ slos, counter, clock }),
  });
  const notifier = createWebhookNotifier({
    webhooks: webhooksFromEnv(options.env ?? process.env),
    breakers,
    defer: queueDeferral((orgId, payload, o) => enqueueNotification(queue, orgId, payload, o)),
  });
  return {
    connection: { endpoint: connection.endpoint, projectId: connection.projectId },
    clock,
    store,
    platform,
    functions,
    breakers,
    queue,
    quotaService: () => createQuotaService({ store, clock }),
    orchestrator,
    counter,
    slos,
    alerts: {
      sender: notifierAlertSender(notifier),
      ledger: memoryAlertLedger(),
      channels: notifier.channels,
    },
    calls,
    onRolloutEvent,
  };
}
