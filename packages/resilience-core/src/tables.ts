import type { TableSpec } from './schema/table-spec.ts';

/**
 * Every table the code reads or writes. Each service adds its own `tables.ts` here (one import line each);
 * appwrite.json is checked against this list by `npm test`.
 */
export const allTables: TableSpec[] = [];
