/**
 * Routes: the proxy rules list `appwrite push functions` reads to print a function's URL. The local server
 * has no domains, so it serves no rules (an empty list, filtered by the usual queries); creating rules
 * (`POST /proxy/rules/function`) needs a console session on Appwrite too and is not offered.
 */
import type { Router } from '../server-context.ts';
import { applyQueries, parseQueries } from './list-query.ts';

/** Registers GET /proxy/rules. */
export function registerProxyRoutes(router: Router): void {
  router.add({
    method: 'GET',
    path: '/proxy/rules',
    scope: 'rules.read',
    handler: (req) => {
      const attributes = [
        'domain',
        'type',
        'trigger',
        'deploymentResourceType',
        'deploymentResourceId',
        'deploymentId',
      ];
      const { total, page } = applyQueries([], parseQueries(req.query.queries), attributes);
      return { status: 200, json: { total, rules: page } };
    },
  });
}
