import type { Clock, OrgDirectory, TableStore } from 'resilience-core';
import type { RecognitionHooks } from 'resilience-core/app';
import { routesFor, type SetupContext } from 'resilience-core/runtime';

/**
 * The dependencies every create-recognition route gets. `setup` is the kit's per-execution context: routes
 * that need more (a Functions client, env values) build it from there.
 */
export interface AppDeps {
  store: TableStore;
  orgs: OrgDirectory;
  clock: Clock;
  /** The recognition seams, composed from `hooks.ts`. */
  hooks: RecognitionHooks;
  setup: SetupContext;
}

/** The typed route builder of this function: `route({ method, path, auth, body, handler })`. */
export const route = routesFor<AppDeps>();
