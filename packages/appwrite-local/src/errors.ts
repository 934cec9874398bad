/**
 * Appwrite-style errors: `{message, code, type, version}` with the HTTP status equal to `code`.
 * Types and default messages come from the 1.9.5 catalogue.
 */
import { ERROR_CATALOGUE } from './error-catalogue.ts';

/** The Appwrite version this server reports (`/health/version`, error `version`). */
export const SERVER_VERSION = '1.9.5';

/** An error that renders as an Appwrite error response. Throw it from any handler. */
export class AppwriteError extends Error {
  readonly type: string;
  readonly code: number;

  /**
   * @param type a catalogue type such as `row_not_found` (unknown types become 500 `general_unknown`)
   * @param message overrides the catalogue message; `%s` in the catalogue message is replaced by `subject`
   * @param subject the resource id for catalogue messages with `%s`
   */
  constructor(type: string, message?: string, subject?: string) {
    const entry = ERROR_CATALOGUE[type];
    const [code, template] = entry ?? [500, message ?? 'An unknown error has occurred.'];
    super(message ?? (subject === undefined ? template : template.replace('%s', subject)));
    this.name = 'AppwriteError';
    this.type = entry ? type : 'general_unknown';
    this.code = code;
  }

  /** The JSON body Appwrite sends. */
  toJSON(): { message: string; code: number; type: string; version: string } {
    return { message: this.message, code: this.code, type: this.type, version: SERVER_VERSION };
  }
}

/** Shorthand for a 400 `general_argument_invalid` with a message naming the parameter. */
export function invalidArgument(message: string): AppwriteError {
  return new AppwriteError('general_argument_invalid', message);
}
