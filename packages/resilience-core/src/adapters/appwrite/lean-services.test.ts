import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Query, TablesDB, Teams } from 'node-appwrite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTablesDbApi, createTeamsApi } from './lean-services.ts';

interface Recorded {
  method: string;
  url: string;
  body: string;
  headers: Record<string, string | undefined>;
}

describe('lean services send exactly what node-appwrite services send', () => {
  let server: Server;
  let client: Client;
  const recorded: Recorded[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        recorded.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          headers: {
            'x-appwrite-project': req.headers['x-appwrite-project'] as string | undefined,
            'x-appwrite-key': req.headers['x-appwrite-key'] as string | undefined,
            'content-type': req.headers['content-type'],
            accept: req.headers.accept,
          },
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"$id":"x","rows":[],"memberships":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    client = new Client().setEndpoint(`http://127.0.0.1:${port}/v1`).setProject('proj').setKey('secret');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Ids are Appwrite ids (the lean services refuse others, path-segment.test.ts): dots and dashes go unencoded.
  const row = { databaseId: 'db', tableId: 't.1', rowId: 'r-1.x' };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['createRow', { ...row, data: { a: 1, tags: ['x'] }, permissions: ['read("any")'] }],
    ['getRow', row],
    ['updateRow', { ...row, data: { a: 2 } }],
    ['upsertRow', { ...row, data: { a: 3 } }],
    ['deleteRow', row],
    [
      'listRows',
      {
        databaseId: 'db',
        tableId: 't',
        queries: [Query.equal('a', [1]), Query.orderAsc('$sequence'), Query.limit(3)],
        total: false,
      },
    ],
    ['incrementRowColumn', { ...row, column: 'n', value: 2, max: 10 }],
    ['decrementRowColumn', { ...row, column: 'n', value: 2, min: 0 }],
    ['createTransaction', {}],
    [
      'createOperations',
      {
        transactionId: 'tx',
        operations: [{ action: 'create', databaseId: 'db', tableId: 't', rowId: 'r', data: { a: 1 } }],
      },
    ],
    ['updateTransaction', { transactionId: 'tx', commit: true }],
  ];

  it.each(cases)('%s', async (method, params) => {
    const sdk = new TablesDB(client) as unknown as Record<string, (p: unknown) => Promise<unknown>>;
    const lean = createTablesDbApi(client) as unknown as Record<string, (p: unknown) => Promise<unknown>>;
    recorded.length = 0;
    await sdk[method]!(params);
    await lean[method]!(params);
    expect(recorded).toHaveLength(2);
    expect(recorded[1]).toEqual(recorded[0]);
  });

  it('listMemberships', async () => {
    const params = { teamId: 'team', queries: [Query.equal('userId', ['u']), Query.limit(1)], total: false };
    recorded.length = 0;
    await new Teams(client).listMemberships(params);
    await createTeamsApi(client).listMemberships(params);
    expect(recorded).toHaveLength(2);
    expect(recorded[1]).toEqual(recorded[0]);
  });
});
