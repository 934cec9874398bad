import type { Client } from 'node-appwrite';
import type { TablesDbApi } from './appwrite-table-store.ts';
import { pathSegment } from './path-segment.ts';
import type { TeamsApi } from './teams-org-directory.ts';

/**
 * The few TablesDB and Teams endpoints the adapters use, sent through node-appwrite's own `Client.call` (same
 * transport, headers, JSON handling and `AppwriteException`s as the SDK services), without the SDK's service
 * classes: `TablesDB` alone is ~65 KB minified because it carries every endpoint, which would push each
 * function bundle past its 250 KB budget. Paths, methods, headers and payloads equal the SDK's — a test
 * records both against one HTTP server and compares them request by request.
 */

type Params = Record<string, unknown>;
type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

function send(client: Client, method: Method, path: string, payload: Params): Promise<unknown> {
  const headers: Record<string, string> = { 'X-Appwrite-Project': client.config.project };
  if (method !== 'get') headers['content-type'] = 'application/json';
  if (method !== 'delete') headers.accept = 'application/json';
  const body: Params = {};
  for (const [k, v] of Object.entries(payload)) if (v !== undefined) body[k] = v;
  return client.call(method, new URL(client.config.endpoint + path), headers, body);
}

function pick(params: Params, keys: readonly string[]): Params {
  const out: Params = {};
  for (const k of keys) out[k] = params[k];
  return out;
}

const rowsPath = (p: Params) =>
  `/tablesdb/${pathSegment(p.databaseId, 'databaseId')}/tables/${pathSegment(p.tableId, 'tableId')}/rows`;
const rowPath = (p: Params) => `${rowsPath(p)}/${pathSegment(p.rowId, 'rowId')}`;

/** The TablesDB calls of {@link TablesDbApi} over `client`. */
export function createTablesDbApi(client: Client): TablesDbApi {
  return {
    createRow: (p) =>
      send(client, 'post', rowsPath(p), pick(p, ['rowId', 'data', 'permissions', 'transactionId'])),
    getRow: (p) => send(client, 'get', rowPath(p), pick(p, ['queries', 'transactionId'])),
    updateRow: (p) => send(client, 'patch', rowPath(p), pick(p, ['data', 'permissions', 'transactionId'])),
    upsertRow: (p) => send(client, 'put', rowPath(p), pick(p, ['data', 'permissions', 'transactionId'])),
    deleteRow: (p) => send(client, 'delete', rowPath(p), pick(p, ['transactionId'])),
    listRows: (p) => send(client, 'get', rowsPath(p), pick(p, ['queries', 'transactionId', 'total', 'ttl'])),
    incrementRowColumn: (p) =>
      send(
        client,
        'patch',
        `${rowPath(p)}/${pathSegment(p.column, 'column')}/increment`,
        pick(p, ['value', 'max', 'transactionId']),
      ),
    decrementRowColumn: (p) =>
      send(
        client,
        'patch',
        `${rowPath(p)}/${pathSegment(p.column, 'column')}/decrement`,
        pick(p, ['value', 'min', 'transactionId']),
      ),
    createTransaction: (p) => send(client, 'post', '/tablesdb/transactions', pick(p, ['ttl'])),
    createOperations: (p) =>
      send(
        client,
        'post',
        `/tablesdb/transactions/${pathSegment(p.transactionId, 'transactionId')}/operations`,
        pick(p, ['operations']),
      ),
    updateTransaction: (p) =>
      send(
        client,
        'patch',
        `/tablesdb/transactions/${pathSegment(p.transactionId, 'transactionId')}`,
        pick(p, ['commit', 'rollback']),
      ),
  };
}

/** The Teams call of {@link TeamsApi} over `client`. */
export function createTeamsApi(client: Client): TeamsApi {
  return {
    listMemberships: (p) =>
      send(
        client,
        'get',
        `/teams/${pathSegment(p.teamId, 'teamId')}/memberships`,
        pick(p as Params, ['queries', 'search', 'total']),
      ),
  };
}
