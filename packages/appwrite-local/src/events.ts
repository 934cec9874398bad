/** The in-process event bus modules subscribe to (see `EventBus` in server-context.ts). */
import type { EventBus, PlatformEvent } from './server-context.ts';

/** Creates a bus whose listeners run synchronously in subscription order; a throwing listener is logged. */
export function createEventBus(log: (message: string) => void): EventBus {
  const listeners = new Set<(event: PlatformEvent) => void>();
  return {
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (e) {
          log(`event listener failed for ${event.names[0] ?? '?'}: ${(e as Error).message}`);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
