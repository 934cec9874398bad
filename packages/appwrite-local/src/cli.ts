/**
 * The `appwrite-local` command line: parses flags, starts the server, prints exactly one line
 * `appwrite-local listening on http://127.0.0.1:PORT/v1` on stdout when ready, and stops cleanly on
 * SIGINT/SIGTERM (a second signal exits at once). Diagnostics go to stderr with `--verbose`.
 */
import { parseArgs } from 'node:util';
import { startAppwriteLocal } from './server.ts';
import { COLLATIONS, type Collation } from './tablesdb/collation.ts';

/** Usage text (printed on --help and on bad flags). */
export const USAGE = `Usage: appwrite-local --key KEY [--port N] [--data DIR | --memory] [--config appwrite.json]
                      [--project ID] [--host 127.0.0.1] [--latency MS] [--collation C] [--verbose]
  --port     TCP port (default 0 = pick a free one)
  --data     keep the database in DIR (survives restarts); --memory keeps it in memory (default)
  --config   provision databases, tables and functions from this appwrite.json
  --project  project id clients send in X-Appwrite-Project (default: the config's projectId, else "local")
  --key      an API key with every scope (or env APPWRITE_LOCAL_KEY)
  --latency  delay added to every request, ms (default 0)
  --collation  utf8mb4_general_ci (default: ids, unique indexes and equality ignore case, accents and
             trailing spaces, as Appwrite on MariaDB) or binary (exact comparison)`;

/** Runs the command; resolves with the process exit code once the server has stopped (or failed to start). */
export async function main(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parse>;
  try {
    flags = parse(argv);
  } catch (e) {
    process.stderr.write(`appwrite-local: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const key = flags.key ?? process.env.APPWRITE_LOCAL_KEY;
  const port = Number(flags.port ?? '0');
  const latencyMs = Number(flags.latency ?? '0');
  const problem = !key
    ? '--key (or APPWRITE_LOCAL_KEY) is required'
    : flags.data && flags.memory
      ? '--data and --memory are mutually exclusive'
      : !Number.isInteger(port) || port < 0 || port > 65535
        ? '--port must be an integer 0..65535'
        : !Number.isFinite(latencyMs) || latencyMs < 0
          ? '--latency must be a non-negative number'
          : flags.collation !== undefined && !COLLATIONS.includes(flags.collation as Collation)
            ? `--collation must be one of ${COLLATIONS.join(', ')}`
            : undefined;
  if (problem) {
    process.stderr.write(`appwrite-local: ${problem}\n${USAGE}\n`);
    return 2;
  }
  let projectId = flags.project;
  if (!projectId && flags.config) {
    const { loadAppwriteConfig } = await import('./config.ts');
    projectId = loadAppwriteConfig(flags.config).projectId;
  }
  const log = flags.verbose ? (m: string) => process.stderr.write(`appwrite-local: ${m}\n`) : undefined;
  let server: Awaited<ReturnType<typeof startAppwriteLocal>>;
  try {
    server = await startAppwriteLocal({
      port,
      host: flags.host ?? '127.0.0.1',
      memory: !flags.data,
      dataDir: flags.data,
      config: flags.config,
      projectId: projectId ?? 'local',
      apiKey: key as string,
      latencyMs,
      collation: flags.collation as Collation | undefined,
      log,
    });
  } catch (e) {
    process.stderr.write(`appwrite-local: failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`appwrite-local listening on ${server.endpoint}\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) {
        process.exit(1);
      }
      stopping = true;
      server.stop().then(
        () => resolve(0),
        (e: unknown) => {
          process.stderr.write(`appwrite-local: error while stopping: ${(e as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      memory: { type: 'boolean' },
      config: { type: 'string' },
      project: { type: 'string' },
      key: { type: 'string' },
      latency: { type: 'string' },
      collation: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}
