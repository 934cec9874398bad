/**
 * The TablesDB module: databases, tables, columns, indexes, rows and transactions, the legacy column/index
 * routes `appwrite push tables` uses, and provisioning of appwrite.json's `tablesDB[]` and `tables[]`.
 */
import type { ServerContext, ServerModule } from '../server-context.ts';
import { provisionTables } from './provision.ts';
import { databaseRoutes } from './routes-databases.ts';
import { rowRoutes } from './routes-rows.ts';
import { schemaRoutes } from './routes-schema.ts';
import { transactionRoutes } from './routes-transactions.ts';
import { createTablesDbService } from './service.ts';

/** The TablesDB module. */
export const tablesDbModule: ServerModule = {
  name: 'tablesdb',
  install(ctx: ServerContext) {
    const svc = createTablesDbService(ctx.db, ctx.clock, ctx.events, ctx.options.collation, ctx.faults);
    transactionRoutes(ctx.router, svc);
    databaseRoutes(ctx.router, svc);
    schemaRoutes(ctx.router, svc, 'tables');
    schemaRoutes(ctx.router, svc, 'legacy');
    rowRoutes(ctx.router, svc);
    if (ctx.config) provisionTables(svc, ctx.config, ctx.log);
  },
};
