/**
 * Validation of function create/update bodies (POST /functions, PUT /functions/{id}). Like Appwrite's PUT, an
 * update resets every optional setting it does not carry to its default (the CLI always sends them all).
 */
import { Cron } from 'croner';
import { AppwriteError, invalidArgument } from '../errors.ts';
import { optionalBoolean, optionalStringArray } from '../wire.ts';
import type { FunctionRecord } from './records.ts';
import { DEFAULT_SPECIFICATION, parseSpecification } from './specifications.ts';

/** Node runtimes of node-appwrite 27's `Runtime` enum; all run on the server's own Node. */
export const NODE_RUNTIMES = [
  'node-14.5',
  'node-16.0',
  'node-18.0',
  'node-19.0',
  'node-20.0',
  'node-21.0',
  'node-22',
  'node-23',
  'node-24',
  'node-25',
] as const;

/** Default execution timeout, seconds. */
export const DEFAULT_TIMEOUT = 15;
/** Maximum execution timeout, seconds (`_APP_FUNCTIONS_TIMEOUT` default). */
export const MAX_TIMEOUT = 900;

/** Settings shared by create and update. */
export interface FunctionSettings {
  name: string;
  runtime?: string | undefined;
  execute: string[];
  events: string[];
  schedule: string;
  timeout: number;
  enabled: boolean;
  logging: boolean;
  entrypoint: string;
  commands: string;
  scopes: string[];
  /** The runtime specification (`runtimeSpecification`; 1.8's `specification`). */
  specification: string;
  /** The build specification (`buildSpecification`). */
  buildSpecification: string;
  deploymentRetention: number;
}

/** Checks a cron expression the way Appwrite does (5 fields or a macro; `''` = none). */
export function validateSchedule(schedule: string): void {
  if (schedule === '') return;
  if (!schedule.startsWith('@') && schedule.trim().split(/\s+/).length !== 5) {
    throw invalidArgument('Invalid `schedule` param: String must be a valid cron expression');
  }
  try {
    new Cron(schedule, { paused: true, timezone: 'UTC' });
  } catch {
    throw invalidArgument('Invalid `schedule` param: String must be a valid cron expression');
  }
}

function optionalString(value: unknown, param: string, fallback: string, max = 16_384): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.length > max) {
    throw invalidArgument(
      `Invalid \`${param}\` param: Value must be a valid string and at most ${max} chars`,
    );
  }
  return value;
}

function optionalInt(value: unknown, param: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidArgument(
      `Invalid \`${param}\` param: Value must be a valid range between ${min} and ${max}`,
    );
  }
  return n;
}

/** Parses a runtime (404 `function_runtime_unsupported` for anything but a Node runtime). */
export function parseRuntime(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument('Param "runtime" is not optional.');
  if (!(NODE_RUNTIMES as readonly string[]).includes(value))
    throw new AppwriteError('function_runtime_unsupported');
  return value;
}

/** The `param` specification of a body, else its 1.8 `specification`, else the default. */
function specificationParam(body: Record<string, unknown>, param: string): string {
  const value = body[param] ?? body.specification;
  if (value === undefined || value === null || value === '') return DEFAULT_SPECIFICATION;
  return parseSpecification(value, body[param] === undefined ? 'specification' : param);
}

/** Parses the settings of a create or update body; throws 400 on the first bad field. */
export function parseFunctionSettings(body: Record<string, unknown>): FunctionSettings {
  const name = body.name;
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument('Param "name" is not optional.');
  if (name.length > 128)
    throw invalidArgument('Invalid `name` param: Value must be a valid string and at most 128 chars');
  const schedule = optionalString(body.schedule, 'schedule', '', 256);
  validateSchedule(schedule);
  return {
    name,
    runtime: body.runtime === undefined || body.runtime === '' ? undefined : parseRuntime(body.runtime),
    execute: optionalStringArray(body.execute, 'execute') ?? [],
    events: optionalStringArray(body.events, 'events') ?? [],
    schedule,
    timeout: optionalInt(body.timeout, 'timeout', DEFAULT_TIMEOUT, 1, MAX_TIMEOUT),
    enabled: optionalBoolean(body.enabled, 'enabled', true),
    logging: optionalBoolean(body.logging, 'logging', true),
    entrypoint: optionalString(body.entrypoint, 'entrypoint', '', 256),
    commands: optionalString(body.commands, 'commands', '', 8192),
    scopes: optionalStringArray(body.scopes, 'scopes') ?? [],
    // 1.9 names both; a 1.8 client (appwrite-cli 12) sends one `specification` for both.
    specification: specificationParam(body, 'runtimeSpecification'),
    buildSpecification: specificationParam(body, 'buildSpecification'),
    deploymentRetention: optionalInt(body.deploymentRetention, 'deploymentRetention', 0, 0, 36_500),
  };
}

/** A new function's record (POST /functions, appwrite.json provisioning): its settings, no deployment yet, live. */
export function newFunctionRecord(
  id: string,
  runtime: string,
  settings: FunctionSettings,
  now: number,
): FunctionRecord {
  return {
    $id: id,
    $createdAt: now,
    $updatedAt: now,
    ...settings,
    runtime,
    deploymentId: '',
    deploymentCreatedAt: 0,
    latestDeploymentId: '',
    latestDeploymentCreatedAt: 0,
    latestDeploymentStatus: '',
    live: true,
  };
}
