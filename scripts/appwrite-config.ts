/**
 * The source of appwrite.json: the four functions (declared here) plus the database and every table the code
 * declares (`allTables` in resilience-core). `npx tsx scripts/gen-appwrite-json.ts` writes appwrite.json;
 * test/unit/appwrite-config.test.ts fails when the file and this source drift, and validates both against what
 * appwrite-cli 12 accepts.
 *
 * Scopes are least privilege for the dynamic `x-appwrite-key` each execution receives (platform notes §A4).
 * Shared file: services edit their own function's entry with small targeted changes.
 */
import { allTables, DATABASE_ID, type TableSpec } from 'resilience-core';

/** A function entry of appwrite.json (appwrite-cli 12, platform notes §B3). */
export interface FunctionConfig {
  $id: string;
  name: string;
  runtime: 'node-22';
  /** Roles allowed to execute; `[]` = API keys only. Never `any`/`guests` (the kit treats "no user" as a key). */
  execute: string[];
  events: string[];
  /** Cron (UTC), `""` for none. */
  schedule: string;
  /** Seconds, 1..900. */
  timeout: number;
  enabled: boolean;
  logging: boolean;
  entrypoint: 'dist/main.js';
  commands: '';
  /** Relative to appwrite.json. */
  path: string;
  /** gitignore patterns of files NOT to upload: everything but dist/. */
  ignore: string[];
  scopes: string[];
  specification: string;
}

/** Upload only the bundle: the CLI tars every file under `path` that these gitignore patterns keep. */
export const FUNCTION_IGNORE = ['*', '!dist', '!dist/**'];

/** CPU/memory spec of every function (Appwrite Cloud's smallest). */
export const FUNCTION_SPECIFICATION = 's-1vcpu-512mb';

const base = {
  runtime: 'node-22',
  enabled: true,
  logging: true,
  entrypoint: 'dist/main.js',
  commands: '',
  ignore: FUNCTION_IGNORE,
  specification: FUNCTION_SPECIFICATION,
} as const;

/** Event fired when a job row is created (the job-worker drains on it as well as every minute). */
export const JOB_CREATED_EVENT = `databases.${DATABASE_ID}.tables.job-queue.rows.*.create`;

/** The four functions (key order as written in appwrite.json: `$id` first). */
export const functions: FunctionConfig[] = [
  {
    ...base,
    $id: 'create-recognition',
    name: 'create-recognition',
    path: 'functions/create-recognition',
    // Signed-in users only; org membership is checked per request by the function kit.
    execute: ['users'],
    events: [],
    schedule: '',
    timeout: 15,
    scopes: ['rows.read', 'rows.write', 'teams.read'],
  },
  {
    ...base,
    $id: 'job-worker',
    name: 'job-worker',
    path: 'functions/job-worker',
    execute: [],
    events: [JOB_CREATED_EVENT],
    schedule: '* * * * *',
    timeout: 300,
    scopes: ['rows.read', 'rows.write', 'teams.read'],
  },
  {
    ...base,
    $id: 'quota-reset',
    name: 'quota-reset',
    path: 'functions/quota-reset',
    execute: [],
    events: [],
    schedule: '0 0 * * *',
    timeout: 300,
    scopes: ['rows.read', 'rows.write'],
  },
  {
    ...base,
    $id: 'deploy-orchestrator',
    name: 'deploy-orchestrator',
    path: 'functions/deploy-orchestrator',
    // API keys only: rollouts are operator actions.
    execute: [],
    events: [],
    schedule: '',
    timeout: 900,
    scopes: [
      'rows.read',
      'rows.write',
      'functions.read',
      'functions.write',
      'execution.read',
      'execution.write',
    ],
  },
];

/**
 * Standby twins for blue-green rollouts (deploy-orchestrator, issue 7): the same code, scopes and timeout as the
 * live function, but no events, no schedule and `execute: []` (API keys only), so nothing but the orchestrator
 * runs them. The orchestrator validates a new version on `<id>-standby` before switching the live function.
 * A cron/event function's twin must never tick or react to events (it would process the same jobs and windows
 * twice): `schedule: ''` and `events: []` here, and the orchestrator refuses a twin that has either.
 */
export function standbyTwin(fn: FunctionConfig): FunctionConfig {
  return {
    ...fn,
    $id: `${fn.$id}-standby`,
    name: `${fn.name}-standby`,
    execute: [],
    events: [],
    schedule: '',
  };
}

/**
 * The functions rolled out with pre-switch validation, hence given a twin: every function but
 * deploy-orchestrator, which is not rolled out by itself (it would switch its own deployment mid-run; see
 * packages/resilience-core/src/deployment/README.md, "Which functions roll out") and is deployed directly.
 */
export const FUNCTIONS_WITH_STANDBY = ['create-recognition', 'job-worker', 'quota-reset'];

functions.push(...functions.filter((f) => FUNCTIONS_WITH_STANDBY.includes(f.$id)).map(standbyTwin));

/**
 * The optional Slack/Teams webhook variables (`NOTIFY_SLACK_WEBHOOK_URL`, `NOTIFY_TEAMS_WEBHOOK_URL`, from
 * resilience-core's `webhookEnvSchema`): unset = that channel's notifications are off.
 */
export const WEBHOOK_VARIABLES: readonly string[] = ['NOTIFY_SLACK_WEBHOOK_URL', 'NOTIFY_TEAMS_WEBHOOK_URL'];

/**
 * Environment variables `npm run deploy` copies into each function as SECRET function variables, when set in
 * the deploy environment (e.g. CI secrets). Names only; values are never written to a file or logged. Not part
 * of appwrite.json (the CLI ignores `vars`). Every function runs on the dynamic key alone; the ones that send
 * notifications also read the optional webhook URLs ({@link WEBHOOK_VARIABLES}). `npm run doctor` checks that
 * these are set on the server (a missing webhook is a warning: notifications off).
 */
export const functionVariables: Record<string, readonly string[]> = {
  'create-recognition': WEBHOOK_VARIABLES,
  'job-worker': WEBHOOK_VARIABLES,
  'quota-reset': WEBHOOK_VARIABLES,
};

/** A table entry as appwrite.json holds it. */
function tableEntry(spec: TableSpec) {
  return {
    $id: spec.$id,
    $permissions: spec.$permissions ?? [],
    databaseId: DATABASE_ID,
    name: spec.name,
    enabled: true,
    rowSecurity: spec.rowSecurity ?? false,
    columns: spec.columns.map((c) => ({
      key: c.key,
      type: c.type,
      required: c.required,
      array: c.array ?? false,
      ...(c.size !== undefined ? { size: c.size } : {}),
      ...(c.min !== undefined ? { min: c.min } : {}),
      ...(c.max !== undefined ? { max: c.max } : {}),
      ...(c.format !== undefined ? { format: c.format } : {}),
      // appwrite-cli 12 compares `format` and `encrypt` with the server's column and, when they differ, DELETES
      // and recreates the column on `push tables` (data loss). The server reports datetime columns with
      // format "datetime" and (1.9) plain strings with encrypt false, so the file must say the same.
      ...(c.type === 'datetime' ? { format: 'datetime' } : {}),
      ...(c.type === 'string' && c.format === undefined ? { encrypt: false } : {}),
      ...(c.elements !== undefined ? { elements: c.elements } : {}),
      ...(c.default !== undefined ? { default: c.default } : {}),
    })),
    indexes: spec.indexes.map((i) => ({
      key: i.key,
      type: i.type,
      columns: i.columns,
      ...(i.orders ? { orders: i.orders } : {}),
    })),
  };
}

/**
 * The whole appwrite.json document. No `projectId`: the deploy script and the CLI take the project from the
 * environment / `appwrite client`, so one committed file serves every project.
 */
export function buildAppwriteConfig(tables: readonly TableSpec[] = allTables) {
  return {
    projectName: 'appwrite-resilience',
    functions: functions.map(({ $id, name, ...rest }) => ({ $id, name, ...rest })),
    tablesDB: [{ $id: DATABASE_ID, name: DATABASE_ID, enabled: true }],
    tables: [...tables].sort((a, b) => a.$id.localeCompare(b.$id)).map(tableEntry),
  };
}

/** appwrite.json's text before formatting (the generator then runs the repo's formatter over it). */
export function renderAppwriteJson(tables: readonly TableSpec[] = allTables): string {
  return `${JSON.stringify(buildAppwriteConfig(tables), null, 2)}\n`;
}
