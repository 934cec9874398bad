/**
 * The function kit: everything a function's `main.ts` needs to turn an open-runtimes context into a validated,
 * authorized, traced call of a plain handler, and any error into one JSON envelope.
 */

export {
  type CursorScope,
  cursorSchema,
  openCursor,
  sealCursor,
  sealedPage,
} from '../ports/cursor.ts';
export { type AuthLevel, authorize, type Caller, callerOf, orgIdOf } from './auth.ts';
export {
  type AppwriteContext,
  type AppwriteRequest,
  type AppwriteResponse,
  type ResponseDescriptor,
  type Trigger,
  triggerOf,
} from './context.ts';
export {
  defineFunction,
  type EnvOf,
  type EventInput,
  type FunctionDefinition,
  type FunctionHandler,
  type HandlerInput,
  type HealthCheck,
  type HealthReport,
  logAppwriteRequest,
  type PlatformOverrides,
  type PrefetchInput,
  type Route,
  type RouteDefinition,
  routesFor,
  type SetupContext,
  type TriggerInput,
} from './define-function.ts';
export { type BaseEnv, baseEnvSchema, parseEnv } from './env.ts';
export { createLogger, type LogFields, type Logger, REDACTED, redact } from './logger.ts';
export {
  type ErrorEnvelope,
  invalidInput,
  type RateLimitFigures,
  type RouteResult,
  toResponse,
  zodIssues,
} from './responses.ts';
export { compilePath, type HttpMethod, normalisePath, parseQuery } from './router.ts';
export { connectionOf, requireConnection } from './setup.ts';
