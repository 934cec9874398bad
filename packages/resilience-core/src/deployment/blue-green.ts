import type { CodeBundle } from '../ports/functions-platform.ts';
import type { RolloutOrchestrator, RunOptions } from './rollout-orchestrator.ts';
import type { RolloutPolicyInput } from './rollout-policy.ts';
import type { BlueStatus, GreenStatus, RolloutView } from './rollout-view.ts';

/** Options of the seed API's {@link BlueGreen.executeBlueGreenDeployment}. */
export interface BlueGreenOptions extends RunOptions {
  /** Skip pre-switch validation on the standby twin (said so in the result and the history). Default false. */
  skipHealthCheck?: boolean;
  /** Reactivate blue by itself when the watch fails. Default true. */
  autoRollback?: boolean;
  /** Thresholds and deadlines beyond the seed's options. */
  policy?: RolloutPolicyInput;
  /** The standby twin's id; default `<functionId>-standby`. */
  standbyFunctionId?: string;
}

/** The seed API's result: success, and where blue and green ended up (plus the full rollout view). */
export interface BlueGreenResult {
  success: boolean;
  state: {
    blue: { status: BlueStatus; deploymentId: string | null };
    green: { status: GreenStatus; deploymentId: string | null; active: boolean };
    status: RolloutView['status'];
    reason: string | null;
    healthCheckSkipped: boolean;
  };
  rollout: RolloutView;
}

/** The seed API, bound to an orchestrator. */
export interface BlueGreen {
  /**
   * The entry point users of the earlier design know. `newCode` is a code bundle (uploaded inactive) or
   * `{ deploymentId }` of an existing build. `endpoint` is the health route probed on the twin before the switch
   * and on the live function after it (`/health`; a full URL is reduced to its path, because on Appwrite the
   * orchestrator reaches a function through executions, not URLs). Resolves when the rollout ends (or its
   * `maxRunMs` budget is spent); bad input rejects before anything changes.
   */
  executeBlueGreenDeployment(
    functionId: string,
    newCode: CodeBundle | { deploymentId: string },
    endpoint?: string,
    options?: BlueGreenOptions,
  ): Promise<BlueGreenResult>;
}

/** Binds the seed API to an orchestrator. */
export function createBlueGreen(orchestrator: RolloutOrchestrator): BlueGreen {
  return {
    async executeBlueGreenDeployment(functionId, newCode, endpoint, options = {}) {
      const healthPath = endpoint ? pathOf(endpoint) : undefined;
      const view = await orchestrator.start(
        {
          functionId,
          ...('archive' in newCode ? { code: newCode } : { deploymentId: newCode.deploymentId }),
          skipHealthCheck: options.skipHealthCheck ?? false,
          autoRollback: options.autoRollback ?? true,
          ...(options.standbyFunctionId ? { standbyFunctionId: options.standbyFunctionId } : {}),
          policy: { ...options.policy, ...(healthPath ? { healthPath } : {}) },
        },
        options.maxRunMs === undefined ? {} : { maxRunMs: options.maxRunMs },
      );
      return toBlueGreenResult(view);
    },
  };
}

/** The seed's result shape for a rollout view. */
export function toBlueGreenResult(view: RolloutView): BlueGreenResult {
  return {
    success: view.success,
    state: {
      blue: { ...view.blue },
      green: { ...view.green },
      status: view.status,
      reason: view.reason,
      healthCheckSkipped: view.skipHealthCheck,
    },
    rollout: view,
  };
}

function pathOf(endpoint: string): string {
  if (/^https?:\/\//i.test(endpoint)) return new URL(endpoint).pathname || '/health';
  return endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
}
