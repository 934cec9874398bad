/** `GET /health/version` (public; the CLI's `client --endpoint` check) and `GET /health` (key with health.read). */
import { SERVER_VERSION } from './errors.ts';
import type { ServerModule } from './server-context.ts';

/** The health module. */
export const healthModule: ServerModule = {
  name: 'health',
  install(ctx) {
    ctx.router.add({
      method: 'GET',
      path: '/health/version',
      scope: null,
      handler: () => ({ status: 200, json: { version: SERVER_VERSION } }),
    });
    ctx.router.add({
      method: 'GET',
      path: '/health',
      scope: 'health.read',
      handler: () => ({ status: 200, json: { name: 'http', ping: 0, status: 'pass' } }),
    });
  },
};
