/**
 * `npm run ops -- --port N`: the operations console for the Appwrite named by APPWRITE_ENDPOINT,
 * APPWRITE_PROJECT_ID and APPWRITE_API_KEY (as `npm run deploy` and `npm run doctor` read them; the key stays in
 * this process). Serves the console and `GET /metrics` on 127.0.0.1:N and prints `ops console on <url>`.
 *
 * Flags: --port N (default 7400; 0 = a free port), --host H (default 127.0.0.1; any other interface needs
 * --token T or OPS_CONSOLE_TOKEN, at least 16 characters), --refresh-ms M (background refresh, default 5000).
 */
import { parseArgs } from 'node:util';
import { startOpsConsole } from './server.ts';

function fail(message: string): never {
  console.error(`ops: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7400' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      'refresh-ms': { type: 'string', default: '5000' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    fail(`--port must be 0..65535, got ${values.port}`);
  const refreshMs = Number(values['refresh-ms']);
  if (!Number.isInteger(refreshMs) || refreshMs < 0) fail('--refresh-ms must be a non-negative integer');
  const endpoint = process.env.APPWRITE_ENDPOINT;
  const projectId = process.env.APPWRITE_PROJECT_ID;
  const key = process.env.APPWRITE_API_KEY;
  const missing = [
    ['APPWRITE_ENDPOINT', endpoint],
    ['APPWRITE_PROJECT_ID', projectId],
    ['APPWRITE_API_KEY', key],
  ].filter(([, v]) => !v);
  if (missing.length) fail(`set ${missing.map(([n]) => n).join(', ')} (the key is never printed)`);
  const ops = await startOpsConsole({
    connection: { endpoint: endpoint!, projectId: projectId!, key: key! },
    host: values.host,
    port,
    token: values.token ?? process.env.OPS_CONSOLE_TOKEN ?? null,
    refreshMs,
  }).catch((e: Error) => fail(e.message));
  console.log(`ops console on ${ops.url}`);
  console.log(`  metrics: ${ops.url}/metrics`);
  const stop = () => void ops.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
