/**
 * Shared set-up of the Databases conformance files: a local server per file (through the test helpers), the
 * node-appwrite TablesDB service, and the HTTP status of the last exchange (upstream asserts status codes the
 * SDK does not expose; the server's trace records them).
 */
import { AppwriteException } from 'node-appwrite';
import { type LocalHarness, startHarness } from '../appwrite-local-helpers.ts';

/** Upstream file (relative to tests/e2e/Services/) of the shared Databases tests. */
export const DB_BASE = 'Databases/DatabasesBase.php';
/** Upstream file of the shared transaction tests. */
export const TX_BASE = 'Databases/Transactions/TransactionsBase.php';
/** Upstream file of the ACID tests. */
export const ACID_BASE = 'Databases/Transactions/ACIDBase.php';

/** A started server plus helpers. */
export interface Kit extends LocalHarness {
  /** Status of the last request the server answered. */
  status(): number;
  /** Runs `call`; on an AppwriteException returns `{code, type, message}` (status also in `status()`). */
  attempt<T>(call: Promise<T>): Promise<T | Failure>;
}

/** An SDK call that failed with an Appwrite error. */
export interface Failure {
  failed: true;
  code: number;
  type: string;
  message: string;
}

/** Starts the server for one conformance file. */
export async function startKit(): Promise<Kit> {
  const h = await startHarness();
  return {
    ...h,
    status: () => {
      // Not an `expect`: the assertion counter must count upstream assertions only.
      const last = h.trace[h.trace.length - 1];
      if (!last) throw new Error('no request was made');
      return last.status;
    },
    async attempt<T>(call: Promise<T>): Promise<T | Failure> {
      try {
        return await call;
      } catch (e) {
        if (!(e instanceof AppwriteException)) throw e;
        return { failed: true, code: e.code, type: e.type, message: e.message };
      }
    },
  };
}

/** Narrows an {@link Kit.attempt} result to the failure (fails the test when the call succeeded). */
export function failure(r: unknown): Failure {
  if (!(typeof r === 'object' && r !== null && (r as Failure).failed === true)) {
    throw new Error(`expected the call to fail, got ${JSON.stringify(r)}`);
  }
  return r as Failure;
}

/** Narrows a result to a success body (fails the test with the error otherwise). */
export function ok<T>(r: T | Failure): T {
  if (typeof r === 'object' && r !== null && (r as Failure).failed === true) {
    throw new Error(
      `expected success, got ${(r as Failure).code} ${(r as Failure).type}: ${(r as Failure).message}`,
    );
  }
  return r as T;
}
