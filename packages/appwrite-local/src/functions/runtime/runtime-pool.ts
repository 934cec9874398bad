/**
 * Warm processes, one per function deployment, as Appwrite's executor keeps one runtime per deployment. A
 * process is reused while its deployment and environment are unchanged; when the environment changes (a
 * variable edited) it is replaced, and when a deployment stops being active its process is retired: the
 * executions routed to it (including ones still waiting for its cold start) finish, then it exits. A dead
 * process is replaced on the next execution.
 */
import { createHash } from 'node:crypto';
import {
  RuntimeProcess,
  type RuntimeProcessOptions,
  type RuntimeRequest,
  type RuntimeResponse,
} from './runtime-process.ts';

interface Slot {
  functionId: string;
  deploymentId: string;
  /** Identifies what the process runs: code dir, entrypoint and env. */
  fingerprint: string;
  process: Promise<RuntimeProcess>;
  /** Set once the process has started. */
  started?: RuntimeProcess;
  /** Set when the process failed to start. */
  failed: boolean;
  /** Executions routed to this slot and not yet answered (including ones waiting for the cold start). */
  active: number;
}

/** What the pool needs to start a function's process. */
export interface PoolTarget extends RuntimeProcessOptions {
  functionId: string;
  deploymentId: string;
}

/** How often a retiring process checks whether its executions are done, ms. */
const DRAIN_POLL_MS = 25;

/** The set of warm function processes of one server. */
export class RuntimePool {
  private readonly slots = new Map<string, Slot>();
  private readonly retiring = new Set<Slot>();
  /** Cold starts performed (for tests and diagnostics). */
  coldStarts = 0;

  /**
   * Runs one execution on the target's warm process, cold-starting it when missing, dead or outdated. Never
   * rejects: a process that cannot start, crashes or times out yields a 500 response saying why.
   */
  async run(target: PoolTarget, request: RuntimeRequest): Promise<RuntimeResponse> {
    const slot = this.slotFor(target);
    slot.active++;
    try {
      let proc: RuntimeProcess;
      try {
        proc = await slot.process;
      } catch (e) {
        return {
          statusCode: 500,
          headers: {},
          body: Buffer.alloc(0),
          logs: '',
          errors: `Runtime failed to start: ${(e as Error).message}`,
        };
      }
      return await proc.execute(request);
    } finally {
      slot.active--;
    }
  }

  /**
   * Retires the function's processes — all of them, or all but the one of `keepDeploymentId` (a deployment
   * was activated). Retired processes finish the executions routed to them first.
   */
  release(functionId: string, keepDeploymentId?: string): void {
    for (const [key, slot] of this.slots) {
      if (slot.functionId !== functionId || slot.deploymentId === keepDeploymentId) continue;
      this.slots.delete(key);
      this.retire(slot);
    }
  }

  /** Retires the process of one deployment (deleted, or no longer active after a late execution). */
  releaseDeployment(functionId: string, deploymentId: string): void {
    const key = slotKey(functionId, deploymentId);
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.retire(slot);
  }

  /** Deployments of a function that have a warm (or starting) process. */
  warmDeployments(functionId: string): string[] {
    return [...this.slots.values()].filter((s) => s.functionId === functionId).map((s) => s.deploymentId);
  }

  /** Kills every process now, retiring ones included (server shutdown). */
  async stopAll(): Promise<void> {
    const all = [...this.slots.values(), ...this.retiring];
    this.slots.clear();
    await Promise.all(
      all.map(async (slot) => (await slot.process.catch(() => undefined))?.kill('server stopped')),
    );
  }

  private slotFor(target: PoolTarget): Slot {
    const key = slotKey(target.functionId, target.deploymentId);
    const fingerprint = fingerprintOf(target);
    const slot = this.slots.get(key);
    if (slot && slot.fingerprint === fingerprint && !slot.failed && (slot.started?.alive ?? true))
      return slot;
    if (slot) {
      this.slots.delete(key);
      this.retire(slot);
    }
    this.coldStarts++;
    const fresh: Slot = {
      functionId: target.functionId,
      deploymentId: target.deploymentId,
      fingerprint,
      process: RuntimeProcess.start(target),
      failed: false,
      active: 0,
    };
    fresh.process.then(
      (p) => {
        fresh.started = p;
      },
      () => {
        fresh.failed = true;
      },
    );
    this.slots.set(key, fresh);
    return fresh;
  }

  private retire(slot: Slot): void {
    this.retiring.add(slot);
    void (async () => {
      const proc = await slot.process.catch(() => undefined);
      // Executions already routed here finish on this deployment (their own timeouts bound the wait).
      while (proc?.alive && slot.active > 0) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      await proc?.kill('retired');
      this.retiring.delete(slot);
    })();
  }
}

function slotKey(functionId: string, deploymentId: string): string {
  return `${functionId}\u0000${deploymentId}`;
}

function fingerprintOf(target: PoolTarget): string {
  const entries = Object.entries(target.env).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([target.codeDir, target.entrypoint, entries]))
    .digest('hex')
    .slice(0, 16);
}
