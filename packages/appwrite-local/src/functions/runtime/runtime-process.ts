/**
 * One warm function process: a `node child.cjs` fork running one deployment's entrypoint, reused across
 * executions (Node's module cache keeps module-level state, as in a warm Appwrite runtime). A process that
 * exits, or that stops answering past its timeout (a handler blocking the event loop), is dead for good:
 * its in-flight executions resolve as 500 and the pool starts a fresh one on the next execution.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD_SCRIPT = fileURLToPath(new URL('./child.cjs', import.meta.url));
/** How long past an execution's timeout the parent waits before killing an unresponsive process (ms). */
const KILL_GRACE_MS = 2_000;
/** How long a cold start may take before it counts as failed (ms). */
const START_TIMEOUT_MS = 15_000;
/** Characters of the process's raw stdout/stderr kept for diagnostics. */
const OUTPUT_TAIL = 4_000;

/** A request to the function, as the runtime's HTTP server would receive it. */
export interface RuntimeRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** Path and query string, e.g. `/health?x=1`. */
  url: string;
  /** Headers (any case; the runtime lower-cases them). */
  headers: Record<string, string>;
  body: Buffer;
  /** The function's timeout in seconds (the `x-open-runtimes-timeout` equivalent). */
  timeoutSeconds: number;
}

/** What the runtime answered. */
export interface RuntimeResponse {
  statusCode: number;
  /** Lower-cased response headers. */
  headers: Record<string, string>;
  body: Buffer;
  /** The execution's log stream (context.log and console.*), every line ending with `\n`. */
  logs: string;
  /** The execution's error stream (context.error, thrown errors, runtime messages). */
  errors: string;
}

/** How to start a process. */
export interface RuntimeProcessOptions {
  /** The deployment's extracted code directory (becomes the process's cwd). */
  codeDir: string;
  /** Entrypoint path relative to `codeDir`, e.g. `dist/main.js`. */
  entrypoint: string;
  /** The complete environment of the process (APPWRITE_FUNCTION_* and the function's variables). */
  env: Record<string, string>;
}

interface Pending {
  resolve: (response: RuntimeResponse) => void;
  timer: NodeJS.Timeout;
}

interface ResultMessage {
  type: 'result';
  id: number;
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
  logs: string;
  errors: string;
}

/** A running child process. Create with `RuntimeProcess.start()`. */
export class RuntimeProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead = false;
  private exitReason = '';
  private outputTail = '';
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (chunk: Buffer) => {
      this.outputTail = (this.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: ResultMessage) => this.onMessage(message));
    child.once('exit', (code, signal) => this.onExit(code, signal));
  }

  /** Forks the process and resolves once it reports ready. Rejects if it dies or hangs while starting. */
  static start(options: RuntimeProcessOptions): Promise<RuntimeProcess> {
    const child = fork(CHILD_SCRIPT, [], {
      cwd: options.codeDir,
      env: { ...options.env, OPEN_RUNTIMES_ENTRYPOINT: options.entrypoint },
      execPath: process.execPath,
      // The parent may run under tsx or vitest; the child is plain Node.
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const proc = new RuntimeProcess(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('function runtime did not start in time'));
      }, START_TIMEOUT_MS);
      const onReady = (message: { type?: string }) => {
        if (message?.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onReady);
        child.off('exit', onEarlyExit);
        resolve(proc);
      };
      const onEarlyExit = () => {
        clearTimeout(timer);
        reject(new Error(`function runtime exited while starting: ${proc.outputTail.trim()}`));
      };
      child.on('message', onReady);
      child.once('exit', onEarlyExit);
    });
  }

  /** False once the process has exited or been killed. */
  get alive(): boolean {
    return !this.dead;
  }

  /** Executions sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Operating-system process id (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Runs one execution. Never rejects: a dead or unresponsive process yields a 500 response whose
   * `errors` say why.
   */
  execute(request: RuntimeRequest): Promise<RuntimeResponse> {
    if (this.dead) return Promise.resolve(failure(`Runtime process is not running (${this.exitReason}).`));
    const id = this.nextId++;
    const timeoutMs = request.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      // Backstop for a handler that blocks the event loop so the child's own timeout cannot fire.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(failure('Execution timed out.'));
        this.kill('an execution blocked the process past its timeout');
      }, timeoutMs + KILL_GRACE_MS);
      this.pending.set(id, { resolve, timer });
      this.child.send(
        {
          type: 'execute',
          id,
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: request.body,
          timeoutMs,
        },
        (error) => {
          if (!error) return;
          const entry = this.pending.get(id);
          if (!entry) return;
          clearTimeout(entry.timer);
          this.pending.delete(id);
          resolve(failure(`Runtime process unreachable: ${error.message}`));
          void this.kill('IPC channel closed');
        },
      );
    });
  }

  /** Kills the process now; in-flight executions resolve as 500. Resolves once it has exited. */
  async kill(reason = 'stopped'): Promise<void> {
    if (!this.dead) {
      // Dead from now on, so the pool never hands this process out again while the signal is in flight.
      this.dead = true;
      this.exitReason = reason;
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  private onMessage(message: ResultMessage): void {
    if (message?.type !== 'result') return;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(message.id);
    entry.resolve({
      statusCode: message.statusCode,
      headers: message.headers,
      body: Buffer.from(message.body),
      logs: message.logs,
      errors: message.errors,
    });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true;
    if (!this.exitReason) this.exitReason = signal ? `killed by ${signal}` : `exit code ${code}`;
    const tail = this.outputTail.trim();
    const message = `Runtime process exited (${this.exitReason}).` + (tail ? `\n${tail}` : '');
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.resolve(failure(message));
    }
  }
}

function failure(errors: string): RuntimeResponse {
  return { statusCode: 500, headers: {}, body: Buffer.alloc(0), logs: '', errors };
}
