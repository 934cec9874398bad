/**
 * Machine specifications (Appwrite's `app/config/specifications.php` at 1.9.5): the slugs a function's
 * `buildSpecification` and `runtimeSpecification` may take, and the memory and CPUs each one reports to the
 * function (APPWRITE_FUNCTION_MEMORY / _CPUS). appwrite-local runs every function on the server's Node, so a
 * specification changes what the function is told, not what it gets.
 */
import { invalidArgument } from '../errors.ts';

/** One specification: memory in MB, CPUs (fractions allowed). */
export interface Specification {
  slug: string;
  memory: number;
  cpus: number;
}

/** Every specification, in Appwrite's order. */
export const SPECIFICATIONS: readonly Specification[] = [
  { slug: 's-0.5vcpu-512mb', memory: 512, cpus: 0.5 },
  { slug: 's-1vcpu-512mb', memory: 512, cpus: 1 },
  { slug: 's-1vcpu-1gb', memory: 1024, cpus: 1 },
  { slug: 's-2vcpu-2gb', memory: 2048, cpus: 2 },
  { slug: 's-2vcpu-4gb', memory: 4096, cpus: 2 },
  { slug: 's-4vcpu-4gb', memory: 4096, cpus: 4 },
  { slug: 's-4vcpu-8gb', memory: 8192, cpus: 4 },
  { slug: 's-8vcpu-4gb', memory: 4096, cpus: 8 },
  { slug: 's-8vcpu-8gb', memory: 8192, cpus: 8 },
];

/** The default specification (APP_COMPUTE_SPECIFICATION_DEFAULT). */
export const DEFAULT_SPECIFICATION = 's-1vcpu-512mb';

/** The specification of `slug`, falling back to the default for a record written before slugs were checked. */
export function specificationOf(slug: string): Specification {
  return (
    SPECIFICATIONS.find((s) => s.slug === slug) ??
    (SPECIFICATIONS.find((s) => s.slug === DEFAULT_SPECIFICATION) as Specification)
  );
}

/** Checks a `param` value: one of the slugs, else 400 with Appwrite's validator message. */
export function parseSpecification(value: unknown, param: string): string {
  if (typeof value === 'string' && SPECIFICATIONS.some((s) => s.slug === value)) return value;
  throw invalidArgument(
    `Invalid \`${param}\` param: Specification must be one of: ${SPECIFICATIONS.map((s) => s.slug).join(', ')}`,
  );
}
