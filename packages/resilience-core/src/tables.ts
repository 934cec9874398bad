import { appTables } from './app/tables.ts';
import { circuitBreakerTables } from './circuit-breaker/tables.ts';
import { deploymentTables } from './deployment/tables.ts';
import { jobTables } from './jobs/tables.ts';
import { quotaTables } from './quota/tables.ts';
import type { TableSpec } from './schema/table-spec.ts';

/**
 * Every table the code reads or writes. Each service adds its own `tables.ts` here (one import line each);
 * appwrite.json is checked against this list by `npm test`.
 */
export const allTables: TableSpec[] = [
  ...appTables,
  ...quotaTables,
  ...deploymentTables,
  ...jobTables,
  ...circuitBreakerTables,
];
