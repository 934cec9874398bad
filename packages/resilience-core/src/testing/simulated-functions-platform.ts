import { z } from 'zod';
import { errors } from '../errors.ts';
import { newId } from '../ids.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type {
  CodeBundle,
  DeploymentInfo,
  ExecutionInfo,
  ExecutionPage,
  ExecutionQuery,
  ExecutionRequest,
  FunctionInfo,
  FunctionsPlatform,
} from '../ports/functions-platform.ts';

/**
 * How a simulated bundle behaves. A simulated "archive" is this JSON, UTF-8 encoded ({@link simBundle}), so
 * tests describe versions of a function instead of shipping real code.
 */
export const simBehaviourSchema = z.object({
  /** Version string the health route reports. Default `v1`. */
  version: z.string().default('v1'),
  /** Whether the build succeeds. Default true. */
  buildOk: z.boolean().default(true),
  /** Build duration in ms of the platform clock. Default 2000. */
  buildMs: z.number().int().min(0).default(2_000),
  /** Status of `GET /health`. Default 200. */
  healthStatus: z.number().int().default(200),
  /** Status of every other request. Default 200. */
  status: z.number().int().default(200),
  /** Answer 500 to everything when running on a function whose id does not end in `-standby`. Default false. */
  failOnLive: z.boolean().default(false),
  /** On a live function, answer 500 to everything after this many executions of the deployment (late fault). */
  failAfterExecutions: z.number().int().min(0).optional(),
  /** Execution duration in ms. Default 20. */
  latencyMs: z.number().min(0).default(20),
  /** Fixed JSON bodies per path (status `status`). */
  bodies: z.record(z.string(), z.unknown()).default({}),
});

/** A simulated version's behaviour as given (defaults not applied). */
export type SimBehaviourInput = z.input<typeof simBehaviourSchema>;
type SimBehaviour = z.output<typeof simBehaviourSchema>;

/** A code bundle for the simulated platform. */
export function simBundle(behaviour: SimBehaviourInput = {}): CodeBundle {
  return {
    archive: new TextEncoder().encode(JSON.stringify(behaviour)),
    entrypoint: 'dist/main.js',
    commands: '',
  };
}

interface SimDeployment {
  id: string;
  functionId: string;
  createdAt: number;
  entrypoint: string;
  archive: Uint8Array;
  behaviour: SimBehaviour;
  /** Executions run so far. */
  executions: number;
}

interface SimFunction {
  id: string;
  name: string;
  enabled: boolean;
  execute: string[];
  schedule: string;
  events: string[];
  deploymentRetentionDays: number;
  activeDeploymentId: string | null;
  deployments: Map<string, SimDeployment>;
  executions: ExecutionInfo[];
}

/** Lets a test intercept any call: call `proceed()` to run it (or don't: throw, or never resolve = a "kill"). */
export type SimInterceptor = (
  method: string,
  args: readonly unknown[],
  proceed: () => Promise<unknown>,
) => Promise<unknown>;

/**
 * An in-memory Functions platform with Appwrite's rules (one active deployment per function; executions
 * always run the active one; activation is one call and needs a ready build; inactive uploads are never
 * activated by the platform). Builds take `buildMs` of the given clock, so a ManualClock drives them.
 */
export class SimulatedFunctionsPlatform implements FunctionsPlatform {
  /** Calls per method (not counting `seed*` and `traffic` helpers). */
  readonly stats: { calls: number; byMethod: Record<string, number> } = { calls: 0, byMethod: {} };
  /** Set to intercept calls (fault injection). */
  interceptor: SimInterceptor | null = null;
  private readonly functions = new Map<string, SimFunction>();
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Creates a function (test setup). */
  addFunction(
    id: string,
    options: {
      name?: string;
      execute?: string[];
      deploymentRetentionDays?: number;
      schedule?: string;
      events?: string[];
    } = {},
  ): void {
    this.functions.set(id, {
      id,
      name: options.name ?? id,
      enabled: true,
      execute: options.execute ?? ['any'],
      schedule: options.schedule ?? '',
      events: options.events ?? [],
      deploymentRetentionDays: options.deploymentRetentionDays ?? 0,
      activeDeploymentId: null,
      deployments: new Map(),
      executions: [],
    });
  }

  /** Creates a built, active deployment of `behaviour` (test setup: "blue"). Returns its id. */
  seedActive(functionId: string, behaviour: SimBehaviourInput = {}): string {
    const fn = this.fn(functionId);
    const dep = this.newDeployment(fn, simBundle({ ...behaviour, buildMs: 0 }));
    dep.createdAt = this.clock.now() - 1;
    fn.activeDeploymentId = dep.id;
    return dep.id;
  }

  /** Runs `count` user requests against the function's active deployment (traffic). */
  async traffic(functionId: string, count: number, path = '/'): Promise<ExecutionInfo[]> {
    const out: ExecutionInfo[] = [];
    for (let i = 0; i < count; i++) out.push(this.run(this.fn(functionId), { method: 'POST', path }, 'http'));
    return out;
  }

  /**
   * Adds an execution record of the function's active deployment as the platform would write it (tests; not
   * counted), e.g. an async execution queued before a switch that ended after it (`createdAt` = queued,
   * `endedAt` = end), or the `failed`/500 record Appwrite writes for a synchronous execution that timed out.
   */
  record(functionId: string, fields: Partial<ExecutionInfo> = {}): ExecutionInfo {
    const fn = this.fn(functionId);
    if (!fn.activeDeploymentId) throw errors.notFound(`function ${fn.id} has no active deployment`);
    const now = this.clock.now();
    const exec: ExecutionInfo = {
      id: newId(),
      functionId: fn.id,
      deploymentId: fn.activeDeploymentId,
      status: 'completed',
      trigger: 'http',
      requestMethod: 'GET',
      requestPath: '/',
      responseStatusCode: 200,
      responseBody: '',
      durationMs: 20,
      createdAt: now,
      endedAt: now,
      ...fields,
    };
    fn.executions.push(exec);
    return exec;
  }

  /** The function's active deployment id (test assertions; not counted). */
  activeOf(functionId: string): string | null {
    return this.fn(functionId).activeDeploymentId;
  }

  /** Every deployment id of the function, oldest first (test assertions; not counted). */
  deploymentsOf(functionId: string): string[] {
    return [...this.fn(functionId).deployments.keys()];
  }

  getFunction(functionId: string): Promise<FunctionInfo | null> {
    return this.intercept('getFunction', [functionId], async () => {
      const fn = this.functions.get(functionId);
      if (!fn) return null;
      return {
        id: fn.id,
        name: fn.name,
        activeDeploymentId: fn.activeDeploymentId,
        enabled: fn.enabled,
        execute: [...fn.execute],
        deploymentRetentionDays: fn.deploymentRetentionDays,
        schedule: fn.schedule,
        events: [...fn.events],
      };
    });
  }

  createDeployment(
    functionId: string,
    code: CodeBundle,
    options: { activate: boolean },
  ): Promise<DeploymentInfo> {
    return this.intercept('createDeployment', [functionId, code, options], async () => {
      const fn = this.fn(functionId);
      const dep = this.newDeployment(fn, code);
      if (options.activate) throw errors.invalidInput('the simulator only supports activate:false uploads');
      return this.info(dep);
    });
  }

  getDeployment(functionId: string, deploymentId: string): Promise<DeploymentInfo | null> {
    return this.intercept('getDeployment', [functionId, deploymentId], async () => {
      const dep = this.functions.get(functionId)?.deployments.get(deploymentId);
      return dep ? this.info(dep) : null;
    });
  }

  activateDeployment(functionId: string, deploymentId: string): Promise<void> {
    return this.intercept('activateDeployment', [functionId, deploymentId], async () => {
      const fn = this.fn(functionId);
      const dep = fn.deployments.get(deploymentId);
      if (!dep) throw errors.notFound(`deployment ${deploymentId} not found`);
      if (this.info(dep).status !== 'ready') throw errors.conflict(`build of ${deploymentId} is not ready`);
      fn.activeDeploymentId = deploymentId;
    });
  }

  execute(functionId: string, request: ExecutionRequest): Promise<ExecutionInfo> {
    return this.intercept('execute', [functionId, request], async () =>
      this.run(this.fn(functionId), request, 'http'),
    );
  }

  listExecutions(functionId: string, query: ExecutionQuery): Promise<ExecutionPage> {
    return this.intercept('listExecutions', [functionId, query], async () => {
      const all = this.fn(functionId).executions.filter(
        (e) =>
          (query.deploymentId === undefined || e.deploymentId === query.deploymentId) &&
          (query.createdAfter === undefined || e.createdAt >= query.createdAfter),
      );
      const start = query.cursor ? all.findIndex((e) => e.id === query.cursor) + 1 : 0;
      const limit = Math.min(query.limit ?? 100, 100);
      const executions = all.slice(start, start + limit);
      const more = start + limit < all.length;
      return { executions, nextCursor: more ? (executions.at(-1)?.id ?? null) : null };
    });
  }

  downloadDeployment(functionId: string, deploymentId: string): Promise<Uint8Array> {
    return this.intercept('downloadDeployment', [functionId, deploymentId], async () => {
      const dep = this.fn(functionId).deployments.get(deploymentId);
      if (!dep) throw errors.notFound(`deployment ${deploymentId} not found`);
      return dep.archive;
    });
  }

  private async intercept<T>(method: string, args: readonly unknown[], body: () => Promise<T>): Promise<T> {
    this.stats.calls++;
    this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
    if (!this.interceptor) return body();
    return (await this.interceptor(method, args, body)) as T;
  }

  private fn(functionId: string): SimFunction {
    const fn = this.functions.get(functionId);
    if (!fn) throw errors.notFound(`function ${functionId} not found`);
    return fn;
  }

  private newDeployment(fn: SimFunction, code: CodeBundle): SimDeployment {
    let behaviour: SimBehaviour;
    try {
      behaviour = simBehaviourSchema.parse(JSON.parse(new TextDecoder().decode(code.archive)));
    } catch {
      behaviour = simBehaviourSchema.parse({ buildOk: false });
    }
    const dep: SimDeployment = {
      id: newId(),
      functionId: fn.id,
      createdAt: this.clock.now(),
      entrypoint: code.entrypoint,
      archive: code.archive,
      behaviour,
      executions: 0,
    };
    fn.deployments.set(dep.id, dep);
    return dep;
  }

  private info(dep: SimDeployment): DeploymentInfo {
    const done = this.clock.now() >= dep.createdAt + dep.behaviour.buildMs;
    const status = !done ? 'building' : dep.behaviour.buildOk ? 'ready' : 'failed';
    return {
      id: dep.id,
      functionId: dep.functionId,
      status,
      createdAt: dep.createdAt,
      entrypoint: dep.entrypoint,
      buildLogs: status === 'failed' ? `Error: entrypoint ${dep.entrypoint} not found` : '',
    };
  }

  private run(fn: SimFunction, request: ExecutionRequest, trigger: string): ExecutionInfo {
    if (!fn.activeDeploymentId) throw errors.notFound(`function ${fn.id} has no active deployment`);
    const dep = fn.deployments.get(fn.activeDeploymentId)!;
    const b = dep.behaviour;
    const live = !fn.id.endsWith('-standby');
    let status: number;
    let body: unknown;
    dep.executions++;
    const late = live && b.failAfterExecutions !== undefined && dep.executions > b.failAfterExecutions;
    if ((b.failOnLive && live) || late) {
      status = 500;
      body = { ok: false, error: { code: 'INTERNAL', message: 'simulated failure' } };
    } else if (request.path === '/health') {
      status = b.healthStatus;
      body = { ok: status < 400, name: fn.name, deploymentId: dep.id, version: b.version };
    } else {
      status = b.status;
      body = b.bodies[request.path] ?? { ok: status < 400 };
    }
    const exec: ExecutionInfo = {
      id: newId(),
      functionId: fn.id,
      deploymentId: dep.id,
      status: status >= 500 ? 'failed' : 'completed',
      trigger,
      requestMethod: request.method,
      requestPath: request.path,
      responseStatusCode: status,
      responseBody: JSON.stringify(body),
      durationMs: b.latencyMs,
      // Synchronous: recorded when it ends, as Appwrite does (§F5).
      createdAt: this.clock.now(),
      endedAt: this.clock.now(),
    };
    fn.executions.push(exec);
    return exec;
  }
}
