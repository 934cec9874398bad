/** Appwrite permission strings: `read("any")`, `update("team:abc/admin")`, `delete("user:u1")` … */
import { invalidArgument } from '../errors.ts';
import { optionalStringArray } from '../wire.ts';

const PERMISSION_RE =
  /^(read|create|update|delete|write)\("(any|guests|users|users\/unverified|users\/verified|user:[^"]+|team:[^"]+|member:[^"]+|label:[^"]+)"\)$/;

/** Validates Appwrite permission strings such as `read("team:abc/admin")`. */
export function permissionsParam(value: unknown): string[] | undefined {
  const list = optionalStringArray(value, 'permissions');
  for (const p of list ?? []) {
    if (!PERMISSION_RE.test(p)) {
      throw invalidArgument(
        `Invalid \`permissions\` param: Permission "${p}" is not allowed. Must be one of: read, create, update, delete, write.`,
      );
    }
  }
  return list;
}
