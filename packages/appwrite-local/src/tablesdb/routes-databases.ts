/** `/tablesdb` database routes: create, list, get, update, delete. */
import { attr, collectionRoutes } from '../list.ts';
import type { Router } from '../server-context.ts';
import { formatDate, optionalBoolean, requireString, resolveId } from '../wire.ts';
import type { DatabaseRecord } from './schema-store.ts';
import type { TablesDbService } from './service.ts';

/** The database model. */
export function renderDatabase(d: DatabaseRecord): Record<string, unknown> {
  return {
    $id: d.id,
    name: d.name,
    $createdAt: formatDate(d.createdAt),
    $updatedAt: formatDate(d.updatedAt),
    enabled: d.enabled,
    type: 'tablesdb',
  };
}

const ATTRIBUTES = {
  $id: attr.string,
  name: attr.string,
  enabled: attr.boolean,
  $createdAt: attr.datetime,
  $updatedAt: attr.datetime,
};

/** Registers the database routes. */
export function databaseRoutes(router: Router, svc: TablesDbService): void {
  router.add({
    method: 'POST',
    path: '/tablesdb',
    scope: 'databases.write',
    handler: (req) => {
      const id = resolveId(req.body.databaseId, 'databaseId');
      const name = requireString(req.body, 'name');
      const enabled = optionalBoolean(req.body.enabled, 'enabled', true);
      return { status: 201, json: renderDatabase(svc.schemas.createDatabase(id, name, enabled)) };
    },
  });
  collectionRoutes(router, {
    path: '/tablesdb',
    idParam: 'databaseId',
    key: 'databases',
    read: 'databases.read',
    write: 'databases.write',
    attributes: ATTRIBUTES,
    list: () => svc.schemas.listDatabases(),
    get: (id) => svc.schemas.getDatabase(id),
    remove: (id) => svc.schemas.deleteDatabase(id),
    render: renderDatabase,
  });
  router.add({
    method: 'PUT',
    path: '/tablesdb/:databaseId',
    scope: 'databases.write',
    handler: (req) => {
      const name = requireString(req.body, 'name');
      const enabled =
        req.body.enabled === undefined ? undefined : optionalBoolean(req.body.enabled, 'enabled', true);
      return {
        status: 200,
        json: renderDatabase(svc.schemas.updateDatabase(req.params.databaseId as string, name, enabled)),
      };
    },
  });
}
