import { type CircuitCounters, type CircuitEvent, type CircuitTransition, emptyCounters } from './metrics.ts';
import type { IoPhase } from './shared-circuit-store.ts';

const MAX_TRANSITIONS_KEPT = 20;

/**
 * What a breaker reports about itself: counters, the last transitions and event listeners. Observing never
 * changes a decision, and a listener that throws never breaks the call it observes.
 */
export class CircuitTelemetry {
  /** Running counters (the breaker's hot path bumps them directly). */
  readonly counters: CircuitCounters = emptyCounters();
  private readonly transitions: CircuitTransition[] = [];
  private listeners: ((event: CircuitEvent) => void)[] = [];

  /** Whether anyone listens (so events are only built when they will be seen). */
  get listening(): boolean {
    return this.listeners.length > 0;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: CircuitEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Sends an event to every listener. */
  emit(event: CircuitEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the call it observes.
      }
    }
  }

  /** Keeps a transition (the last 20) and announces it. */
  transition(breaker: string, t: CircuitTransition): void {
    this.transitions.push(t);
    if (this.transitions.length > MAX_TRANSITIONS_KEPT) this.transitions.shift();
    if (this.listeners.length) this.emit({ type: 'transition', breaker, ...t });
  }

  /** Counts one storage round trip. */
  countRoundTrip(phase: IoPhase): void {
    this.counters.storageRoundTrips[phase]++;
  }

  /** Copies of the counters and transitions, for a snapshot. */
  snapshot(): { counters: CircuitCounters; transitions: CircuitTransition[] } {
    return {
      counters: structuredClone(this.counters),
      transitions: this.transitions.map((t) => ({ ...t })),
    };
  }
}
