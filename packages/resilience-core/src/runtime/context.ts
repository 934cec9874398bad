/**
 * The open-runtimes (Appwrite Functions, Node) context, typed. Shapes follow the platform notes §A2–A4: the
 * runtime passes exactly `{ req, res, log, error }` and expects the handler to return what a `res.*` method
 * returned.
 */

/** What `res.*` returns and the handler must return. */
export interface ResponseDescriptor {
  body: unknown;
  statusCode: number;
  headers: Record<string, string>;
}

/** The incoming request (platform notes §A2). Header keys are lower-case. */
export interface AppwriteRequest {
  /** The body as a string (`bodyRaw` is an alias). */
  bodyText: string;
  bodyRaw?: string;
  /** Parsed JSON for `application/json`, `{}` when empty, else the text. Prefer `bodyText` (never throws). */
  body?: unknown;
  bodyBinary?: Buffer;
  headers: Record<string, string | undefined>;
  method: string;
  /** URL path without the query string; `/` by default. */
  path: string;
  /** Split on `&` and the first `=`; values NOT URL-decoded. */
  query?: Record<string, string>;
  /** The raw query string. */
  queryString?: string;
  scheme?: string;
  host?: string;
  port?: number;
  url?: string;
}

/** The response builders (platform notes §A3). Each returns the descriptor to return. */
export interface AppwriteResponse {
  json(body: unknown, statusCode?: number, headers?: Record<string, string>): ResponseDescriptor;
  text(body: string, statusCode?: number, headers?: Record<string, string>): ResponseDescriptor;
  send(body: unknown, statusCode?: number, headers?: Record<string, string>): ResponseDescriptor;
  empty(): ResponseDescriptor;
  binary?(body: Uint8Array, statusCode?: number, headers?: Record<string, string>): ResponseDescriptor;
  redirect?(url: string, statusCode?: number, headers?: Record<string, string>): ResponseDescriptor;
}

/** The context the runtime passes to the default export. */
export interface AppwriteContext {
  req: AppwriteRequest;
  res: AppwriteResponse;
  /** Writes a line to the execution's log stream. */
  log: (message: unknown) => void;
  /** Writes a line to the execution's error stream. */
  error: (message: unknown) => void;
}

/** How the execution was triggered (`x-appwrite-trigger`). */
export type Trigger = 'http' | 'schedule' | 'event';

/** Reads the trigger header; anything unknown counts as `http`. */
export function triggerOf(headers: Record<string, string | undefined>): Trigger {
  const t = headers['x-appwrite-trigger'];
  return t === 'schedule' || t === 'event' ? t : 'http';
}
