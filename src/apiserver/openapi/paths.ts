// The `paths` of a group-version document: one operation per verb, shaped like the real apiserver's.
// kubectl reads two things here: a PATCH operation tagged with the kind's GVK whose parameters
// include `fieldValidation` (then it sends fieldValidation=Strict and skips client-side validation),
// and that operation's request content types (strategic merge patch support for client-side apply).

import type { ResourceSpec, SubresourceSpec } from './resources.ts';
import type { GVK, Schema } from './schemas.ts';

export interface PathContext {
  /** Schema name of a kind, registering it in the document when needed. */
  kindSchema(group: string, version: string, kind: string): string;
  listSchema(group: string, version: string, kind: string): string;
  statusSchema: string;
  deleteOptionsSchema: string;
  patchSchema: string;
}

const schemaRef = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const query = (name: string, description: string, type = 'string'): Schema => ({
  name,
  in: 'query',
  description,
  schema: type === 'string' ? { type: 'string', uniqueItems: true } : { type, uniqueItems: true },
});

const pathParam = (name: string, description: string): Schema => ({
  name,
  in: 'path',
  description,
  required: true,
  schema: { type: 'string', uniqueItems: true },
});

const p = {
  pretty: query('pretty', "If 'true', then the output is pretty printed."),
  dryRun: query('dryRun', 'When present, indicates that modifications should not be persisted. Valid value: "All" (process the request fully without persisting it).'),
  fieldManager: query('fieldManager', 'A name for the actor making the change, recorded in managedFields.'),
  fieldValidation: query(
    'fieldValidation',
    'How the server treats fields of the request body it does not know or that appear twice: Ignore drops them silently, Warn drops them and returns a Warning header per field, Strict fails the request with 400 BadRequest naming them.',
  ),
  force: query('force', 'Force an apply request through field conflicts, taking ownership of the conflicting fields. Only valid for apply patches.', 'boolean'),
  allowWatchBookmarks: query('allowWatchBookmarks', 'Ask for BOOKMARK events in a watch.', 'boolean'),
  continue: query('continue', 'The token returned in a previous list response to fetch the next page.'),
  fieldSelector: query('fieldSelector', 'Restrict the returned objects by their fields.'),
  labelSelector: query('labelSelector', 'Restrict the returned objects by their labels.'),
  limit: query('limit', 'Return at most this many items; continue with the returned token.', 'integer'),
  resourceVersion: query('resourceVersion', 'Which version of the data a read may be served from; for a watch, the version to start after.'),
  resourceVersionMatch: query('resourceVersionMatch', 'How resourceVersion applies to a list: Exact or NotOlderThan.'),
  sendInitialEvents: query('sendInitialEvents', 'Start a watch with synthetic ADDED events for the existing objects.', 'boolean'),
  timeoutSeconds: query('timeoutSeconds', 'Timeout of a list or watch call.', 'integer'),
  watch: query('watch', 'Watch for changes instead of listing.', 'boolean'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'Seconds before the object is deleted; zero deletes immediately.', 'integer'),
  propagationPolicy: query('propagationPolicy', 'Whether and how dependents are garbage collected: Orphan, Background or Foreground.'),
  orphanDependents: query('orphanDependents', 'Deprecated: use propagationPolicy.', 'boolean'),
};

const listParams = [p.allowWatchBookmarks, p.continue, p.fieldSelector, p.labelSelector, p.limit, p.resourceVersion, p.resourceVersionMatch, p.sendInitialEvents, p.timeoutSeconds, p.watch];
const writeParams = [p.dryRun, p.fieldManager, p.fieldValidation];

const objectMedia = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const patchMedia = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
// Custom resources take no strategic merge patch; kubectl's apply reads this list to choose its patch type.
const customPatchMedia = patchMedia.filter((m) => m !== 'application/strategic-merge-patch+json');

function content(types: readonly string[], schema: string): Schema {
  const out: Schema = {};
  for (const t of types) out[t] = { schema: schemaRef(schema) };
  return out;
}

function responses(codes: readonly number[], schema: string): Schema {
  const out: Schema = {};
  const text: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted' };
  for (const c of codes) out[String(c)] = { description: text[c] ?? 'OK', content: content(objectMedia, schema) };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

/** `core_v1`, `coordination_v1`. */
function tag(group: string, version: string): string {
  return `${group === '' ? 'core' : group.split('.')[0].replace(/-/g, '_')}_${version}`;
}

/** `CoreV1`, `CoordinationV1`: the operationId infix. */
function opGroup(group: string, version: string): string {
  const g = group === '' ? 'core' : group.split('.')[0];
  return g.charAt(0).toUpperCase() + g.slice(1) + version.charAt(0).toUpperCase() + version.slice(1);
}

function op(
  action: string,
  description: string,
  id: string,
  r: { group: string; version: string },
  gvk: GVK,
  parameters: Schema[],
  resp: Schema,
  requestBody?: Schema,
): Schema {
  const o: Schema = { tags: [tag(r.group, r.version)], description, operationId: id };
  if (parameters.length > 0) o.parameters = parameters;
  if (requestBody) o.requestBody = requestBody;
  o.responses = resp;
  o['x-kubernetes-action'] = action;
  o['x-kubernetes-group-version-kind'] = gvk;
  return o;
}

/** Adds the operations of one resource (and its subresources) to `paths`. */
export function addResourcePaths(paths: Record<string, Schema>, r: ResourceSpec, ctx: PathContext): void {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const gvk: GVK = { group: r.group, version: r.version, kind: r.kind };
  const kindSchema = ctx.kindSchema(r.group, r.version, r.kind);
  const has = (v: string): boolean => (r.verbs as readonly string[]).includes(v);
  // Create-only kinds (reviews) have no list type.
  const listSchema = has('list') ? ctx.listSchema(r.group, r.version, r.kind) : '';
  const og = opGroup(r.group, r.version);
  const scope = r.namespaced ? 'Namespaced' : '';
  const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const nsParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
  const nameParam = pathParam('name', `name of the ${r.kind}`);
  const bodyOf = (schema: string): Schema => ({ content: { '*/*': { schema: schemaRef(schema) } }, required: true });

  const collection: Schema = {};
  if (has('list')) {
    collection.get = op('list', `list or watch objects of kind ${r.kind}`, `list${og}${scope}${r.kind}`, r, gvk, listParams, responses([200], listSchema));
  }
  if (has('create')) {
    collection.post = op('post', `create a ${r.kind}`, `create${og}${scope}${r.kind}`, r, gvk, writeParams, responses([200, 201, 202], kindSchema), bodyOf(kindSchema));
  }
  if (has('deletecollection')) {
    collection.delete = op('deletecollection', `delete collection of ${r.kind}`, `deletecollection${og}${scope}${r.kind}`, r, gvk,
      [...listParams.filter((x) => x !== p.watch && x !== p.allowWatchBookmarks), p.dryRun, p.gracePeriodSeconds, p.orphanDependents, p.propagationPolicy],
      responses([200], ctx.statusSchema), bodyOf(ctx.deleteOptionsSchema));
  }
  collection.parameters = r.namespaced ? [nsParam, p.pretty] : [p.pretty];
  paths[base] = collection;

  const item: Schema = {};
  const itemVerbs = ['get', 'update', 'delete', 'patch'].some(has);
  if (has('get')) item.get = op('get', `read the specified ${r.kind}`, `read${og}${scope}${r.kind}`, r, gvk, [], responses([200], kindSchema));
  if (has('update')) {
    item.put = op('put', `replace the specified ${r.kind}`, `replace${og}${scope}${r.kind}`, r, gvk, writeParams, responses([200, 201], kindSchema), bodyOf(kindSchema));
  }
  if (has('delete')) {
    item.delete = op('delete', `delete a ${r.kind}`, `delete${og}${scope}${r.kind}`, r, gvk,
      [p.dryRun, p.gracePeriodSeconds, p.orphanDependents, p.propagationPolicy], responses([200, 202], kindSchema), { content: { '*/*': { schema: schemaRef(ctx.deleteOptionsSchema) } } });
  }
  if (has('patch')) item.patch = patchOp(r, gvk, `partially update the specified ${r.kind}`, `patch${og}${scope}${r.kind}`, kindSchema, ctx);
  item.parameters = r.namespaced ? [nameParam, nsParam, p.pretty] : [nameParam, p.pretty];
  if (itemVerbs) paths[`${base}/{name}`] = item;

  if (r.namespaced && has('list')) {
    paths[`${prefix}/${r.plural}`] = {
      get: op('list', `list or watch objects of kind ${r.kind}`, `list${og}${r.kind}ForAllNamespaces`, r, gvk, listParams, responses([200], listSchema)),
      parameters: [p.pretty],
    };
  }

  for (const s of r.subresources) addSubresource(paths, r, s, `${base}/{name}/${s.name}`, ctx, item.parameters as Schema[]);
}

function patchOp(r: ResourceSpec, gvk: GVK, description: string, id: string, kindSchema: string, ctx: PathContext): Schema {
  return op('patch', description, id, r, gvk, [...writeParams, p.force], responses([200, 201], kindSchema), {
    content: content(r.customSchema ? customPatchMedia : patchMedia, ctx.patchSchema),
    required: true,
  });
}

function addSubresource(paths: Record<string, Schema>, r: ResourceSpec, s: SubresourceSpec, path: string, ctx: PathContext, parameters: Schema[]): void {
  const og = opGroup(r.group, r.version);
  const scope = r.namespaced ? 'Namespaced' : '';
  const sub = s.name.charAt(0).toUpperCase() + s.name.slice(1);
  const g = s.group ?? r.group;
  const v = s.version ?? r.version;
  const k = s.kind ?? r.kind;
  const gvk: GVK = { group: g, version: v, kind: k };
  const schema = ctx.kindSchema(g, v, k);
  const bodyOf = { content: { '*/*': { schema: schemaRef(schema) } }, required: true };
  const ops: Schema = {};
  for (const verb of s.verbs) {
    switch (verb) {
      case 'get':
        ops.get = op('get', `read ${s.name} of the specified ${r.kind}`, `read${og}${scope}${r.kind}${sub}`, r, gvk, [], responses([200], schema));
        break;
      case 'update':
        ops.put = op('put', `replace ${s.name} of the specified ${r.kind}`, `replace${og}${scope}${r.kind}${sub}`, r, gvk, writeParams, responses([200, 201], schema), bodyOf);
        break;
      case 'patch':
        ops.patch = patchOp(r, gvk, `partially update ${s.name} of the specified ${r.kind}`, `patch${og}${scope}${r.kind}${sub}`, schema, ctx);
        break;
      case 'create':
        ops.post = op('post', `create ${s.name} of a ${r.kind}`, `create${og}${scope}${r.kind}${sub}`, r, gvk, writeParams, responses([200, 201, 202], schema), bodyOf);
        break;
    }
  }
  ops.parameters = parameters;
  paths[path] = ops;
}
