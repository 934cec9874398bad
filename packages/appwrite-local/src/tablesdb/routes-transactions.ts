/**
 * `/tablesdb/transactions` routes: create, list, get, stage operations, commit/rollback, delete. API keys only
 * on appwrite-local: a user (`X-Appwrite-JWT`) gets 401 `user_unauthorized` (see access.ts).
 */
import { invalidArgument } from '../errors.ts';
import { attr, collectionRoutes } from '../list.ts';
import type { Router } from '../server-context.ts';
import { RowAccess } from './access.ts';
import type { TablesDbService } from './service.ts';
import { renderTransaction } from './transactions.ts';

const READ = ['rows.read', 'documents.read'];
const WRITE = ['rows.write', 'documents.write'];
const ATTRIBUTES = {
  $id: attr.string,
  status: attr.string,
  operations: attr.integer,
  expiresAt: attr.datetime,
  $createdAt: attr.datetime,
  $updatedAt: attr.datetime,
};

/** Registers the transaction routes. */
export function transactionRoutes(keyRouter: Router, svc: TablesDbService): void {
  const router: Router = {
    add: (route) =>
      keyRouter.add({
        ...route,
        handler: (req) => {
          new RowAccess(req).keyOnly('Transactions');
          return route.handler(req);
        },
      }),
  };
  router.add({
    method: 'POST',
    path: '/tablesdb/transactions',
    scope: WRITE,
    handler: (req) => {
      const ttl = req.body.ttl ?? 300;
      if (typeof ttl !== 'number')
        throw invalidArgument('Invalid `ttl` param: Value must be a valid integer');
      return { status: 201, json: renderTransaction(svc.transactions.create(ttl)) };
    },
  });
  collectionRoutes(router, {
    path: '/tablesdb/transactions',
    idParam: 'transactionId',
    key: 'transactions',
    read: READ,
    write: WRITE,
    attributes: ATTRIBUTES,
    list: () => svc.transactions.list(),
    get: (id) => svc.transactions.get(id),
    remove: (id) => svc.transactions.delete(id),
    render: renderTransaction,
  });
  router.add({
    method: 'POST',
    path: '/tablesdb/transactions/:transactionId/operations',
    scope: WRITE,
    handler: (req) => {
      const ops = req.body.operations;
      if (!Array.isArray(ops)) throw invalidArgument('Param "operations" is not optional.');
      return {
        status: 201,
        json: renderTransaction(svc.transactions.stage(req.params.transactionId as string, ops)),
      };
    },
  });
  router.add({
    method: 'PATCH',
    path: '/tablesdb/transactions/:transactionId',
    scope: WRITE,
    handler: (req) => {
      const commit = req.body.commit === true;
      const rollback = req.body.rollback === true;
      if (commit === rollback) throw invalidArgument('Exactly one of `commit` or `rollback` must be true.');
      const id = req.params.transactionId as string;
      if (rollback) return { status: 200, json: renderTransaction(svc.transactions.rollback(id)) };
      const fault = svc.faults?.take(req.method, req.path, ['commit-failed', 'commit-stuck']);
      if (fault) svc.transactions.failCommit(id, fault.kind === 'commit-failed' ? 'failed' : 'stuck');
      const { tx, writes } = svc.transactions.commit(id);
      for (const w of writes) svc.emitRow(w.action, w.table, w.row);
      return { status: 200, json: renderTransaction(tx) };
    },
  });
}
