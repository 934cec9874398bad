/** The functions module's tables: functions, deployments, executions and variables (JSON rows, see json-table.ts). */
import type { Database } from 'better-sqlite3';
import { JsonTable } from './json-table.ts';
import {
  type DeploymentRecord,
  deploymentRecordSchema,
  type ExecutionRecord,
  executionRecordSchema,
  type FunctionRecord,
  functionRecordSchema,
  type VariableRecord,
  variableRecordSchema,
} from './records.ts';

/** Scope of top-level records (functions). */
export const ROOT = '';

/** All persisted state of the functions module. Deployments, executions and variables are scoped by function id. */
export interface FunctionsStore {
  functions: JsonTable<FunctionRecord>;
  deployments: JsonTable<DeploymentRecord>;
  executions: JsonTable<ExecutionRecord>;
  variables: JsonTable<VariableRecord>;
}

/** Creates (if needed) and opens the tables on the project database. */
export function openFunctionsStore(db: Database): FunctionsStore {
  return {
    functions: new JsonTable(db, 'functions_functions', functionRecordSchema),
    deployments: new JsonTable(db, 'functions_deployments', deploymentRecordSchema),
    executions: new JsonTable(db, 'functions_executions', executionRecordSchema),
    variables: new JsonTable(db, 'functions_variables', variableRecordSchema),
  };
}
