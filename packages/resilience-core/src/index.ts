export * from './errors.ts';
export * from './ids.ts';
export * from './ports/clock.ts';
export * from './ports/table-store.ts';
export * from './schema/table-spec.ts';
export { allTables } from './tables.ts';
