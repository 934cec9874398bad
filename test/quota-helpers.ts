/** Shared fixtures for the quota tests: a store, a manual clock, a recording notifier and limit setup. */
import {
  type QuotaNotification,
  type QuotaNotifier,
  QuotaService,
  type QuotaServiceOptions,
  type QuotaType,
  quotaTables,
  type TableStore,
  uniqueIndexesOf,
  updateQuotaSettings,
} from 'resilience-core';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { ManualClock } from 'resilience-core/testing';

/** A notifier that records every message; `failing` makes it throw. */
export class RecordingNotifier implements QuotaNotifier {
  readonly sent: QuotaNotification[] = [];
  failing = false;
  async notify(n: QuotaNotification): Promise<void> {
    if (this.failing) throw new Error('webhook answered 500');
    this.sent.push(n);
  }
}

/** Everything a quota test needs. */
export interface QuotaFixture {
  store: TableStore;
  memory: MemoryTableStore | null;
  clock: ManualClock;
  notifier: RecordingNotifier;
  /** A new service, as a new execution would create. */
  service(options?: Partial<QuotaServiceOptions>): QuotaService;
  /** Sets per-org overrides (and optionally zone, plan, shadow) as an operator. */
  configure(
    orgId: string,
    settings: {
      overrides?: Partial<Record<QuotaType, number>>;
      timeZone?: string;
      plan?: 'free' | 'pro' | 'enterprise';
      shadow?: QuotaType[];
    },
  ): Promise<void>;
}

/** A fixture over the memory store (default) or any given store. */
export function quotaFixture(options: { store?: TableStore; start?: string } = {}): QuotaFixture {
  const clock = new ManualClock(options.start ?? '2026-03-10T12:00:00.000Z');
  const memory = options.store ? null : new MemoryTableStore({ clock, unique: uniqueIndexesOf(quotaTables) });
  const store = options.store ?? memory!;
  const notifier = new RecordingNotifier();
  return {
    store,
    memory,
    clock,
    notifier,
    service: (extra = {}) => new QuotaService({ store, clock, notifier, ...extra }),
    configure: async (orgId, settings) => {
      await updateQuotaSettings(store, { userId: null, orgId, isAdmin: true }, settings, clock.now());
    },
  };
}

/** Runs `n` calls of `fn` concurrently and returns their results. */
export function concurrently<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}
