/**
 * Routes: function variables CRUD. Keys are unique per function (409 `variable_already_exists`); secret values
 * are never returned; a change marks the function not `live` and retires its warm process, so the next
 * execution starts with the new environment.
 */
import { AppwriteError, invalidArgument } from '../errors.ts';
import type { Router } from '../server-context.ts';
import { optionalBoolean, resolveId, uniqueId } from '../wire.ts';
import type { FunctionsDeps } from './deps.ts';
import { applyQueries, listTotal, parseQueries } from './list-query.ts';
import { requireFunction } from './lookup.ts';
import { variableModel } from './models.ts';
import type { VariableRecord } from './records.ts';
import { ROOT } from './store.ts';

function parseKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw invalidArgument(
      'Invalid `key` param: Value must be a valid string and at least 1 chars and no longer than 255 chars',
    );
  }
  return value;
}

function parseValue(value: unknown): string {
  if (typeof value !== 'string' || value.length > 8192) {
    throw invalidArgument(
      'Invalid `value` param: Value must be a valid string and no longer than 8192 chars',
    );
  }
  return value;
}

/** Registers the variable routes. */
export function registerVariableRoutes(deps: FunctionsDeps, router: Router): void {
  const touch = (functionId: string) => {
    const fn = deps.store.functions.get(ROOT, functionId);
    if (fn)
      deps.store.functions.put(ROOT, {
        ...fn,
        live: fn.deploymentId === '',
        $updatedAt: deps.ctx.clock.now(),
      });
    deps.pool.release(functionId);
  };
  const requireVariable = (functionId: string, variableId: string): VariableRecord => {
    const v = deps.store.variables.get(functionId, variableId);
    if (!v) throw new AppwriteError('variable_not_found');
    return v;
  };
  const keyTaken = (functionId: string, key: string, except?: string) =>
    deps.store.variables.list(functionId).some((v) => v.key === key && v.$id !== except);

  router.add({
    method: 'GET',
    path: '/functions/:functionId/variables',
    scope: 'functions.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const all = deps.store.variables.list(fn.$id).map(variableModel);
      const { total, page } = applyQueries(all, parseQueries(req.query.queries), ['key', 'secret']);
      return { status: 200, json: { total: listTotal(req.query, total), variables: page } };
    },
  });

  router.add({
    method: 'POST',
    path: '/functions/:functionId/variables',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      // node-appwrite 27 (1.9) sends variableId; appwrite-cli 12 (1.8) does not.
      const variableId =
        req.body.variableId === undefined ? uniqueId() : resolveId(req.body.variableId, 'variableId');
      const key = parseKey(req.body.key);
      const value = parseValue(req.body.value);
      const secret = optionalBoolean(req.body.secret, 'secret', false);
      if (keyTaken(fn.$id, key)) throw new AppwriteError('variable_already_exists');
      const now = deps.ctx.clock.now();
      const record: VariableRecord = {
        $id: variableId,
        $createdAt: now,
        $updatedAt: now,
        key,
        value,
        secret,
        resourceType: 'function',
        resourceId: fn.$id,
      };
      if (!deps.store.variables.insert(fn.$id, record)) throw new AppwriteError('variable_already_exists');
      touch(fn.$id);
      return { status: 201, json: variableModel(record) };
    },
  });

  router.add({
    method: 'GET',
    path: '/functions/:functionId/variables/:variableId',
    scope: 'functions.read',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      return { status: 200, json: variableModel(requireVariable(fn.$id, req.params.variableId!)) };
    },
  });

  router.add({
    method: 'PUT',
    path: '/functions/:functionId/variables/:variableId',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const current = requireVariable(fn.$id, req.params.variableId!);
      // Each of key, value and secret is optional and nullable (null keeps it); none at all is a 400.
      const { key: rawKey, value: rawValue, secret: rawSecret } = req.body;
      if (rawKey == null && rawValue == null && rawSecret == null)
        throw new AppwriteError('general_argument_invalid');
      const key = rawKey == null ? current.key : parseKey(rawKey);
      const value = rawValue == null ? current.value : parseValue(rawValue);
      const secret =
        rawSecret == null ? current.secret : optionalBoolean(rawSecret, 'secret', current.secret);
      if (current.secret && !secret) throw new AppwriteError('variable_cannot_unset_secret');
      if (keyTaken(fn.$id, key, current.$id)) throw new AppwriteError('variable_already_exists');
      const updated: VariableRecord = { ...current, key, value, secret, $updatedAt: deps.ctx.clock.now() };
      deps.store.variables.put(fn.$id, updated);
      touch(fn.$id);
      return { status: 200, json: variableModel(updated) };
    },
  });

  router.add({
    method: 'DELETE',
    path: '/functions/:functionId/variables/:variableId',
    scope: 'functions.write',
    handler: (req) => {
      const fn = requireFunction(deps, req.params.functionId!);
      const current = requireVariable(fn.$id, req.params.variableId!);
      deps.store.variables.delete(fn.$id, current.$id);
      touch(fn.$id);
      return { status: 204 };
    },
  });
}
