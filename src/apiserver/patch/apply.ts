// Server-side apply (PATCH with application/apply-patch+yaml), practical version of
// structured-merge-diff:
// - absent object: created from the applied configuration;
// - present object: the configuration is merged in (maps and nested objects by key, lists with a
//   merge key (patchmeta.ts) by that key, primitive `merge` lists (finalizers) as sets, other lists
//   and scalars replaced), then every field this manager applied before and no longer applies is
//   removed, unless another manager still owns it or something below it;
// - ownership is recorded per manager in metadata.managedFields (operation Apply, FieldsV1 `f:`/`k:`/
//   `v:` notation). Applying a different value to a field another manager owns is a conflict: 409
//   with one cause per field, worded as the apiserver does; with `force` the field changes owner.
//   Equal values are shared, as in Kubernetes.
// Simplifications (documented, deliberate): merge keys are patchmeta's single keys (Kubernetes keys
// ports by containerPort *and* protocol), atomic maps/structs are merged granularly, and fields set
// by non-apply writes are only protected if the writer recorded a managedFields entry (tinykube's
// create/update/patch handlers may not; then there is nothing to conflict with).
// apiVersion, kind, status and the server-owned metadata fields are never owned (Kubernetes resets
// them too), though their values are merged.

import { StatusError, badRequest } from '../../util/status.ts';
import { tooDeep } from './errors.ts';
import { FieldNode, FieldSet, pathString, type FieldPath } from './fieldset.ts';
import { MAX_DEPTH, deepClone, deepEqual, deeperThan, getOwn, goJsonTypeName, isObject, setOwn, type JsonObject } from './json.ts';
import { pruned } from './mergepatch.ts';
import { isMapField, type PatchField, type PatchSchema } from './schema.ts';

export interface ApplyOptions {
  /** `force=true`: take over fields other managers own instead of failing with 409 (kubectl sends force=false unless --force-conflicts). */
  force?: boolean;
  /** RFC 3339 timestamp for the managedFields entry (pass the injected clock's now); defaults to the current time. */
  now?: string;
}

const unownedTop = new Set(['apiVersion', 'kind', 'status']);
const unownedMetadata = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
]);

interface Entry {
  raw: JsonObject;
  manager: string;
  operation: string;
  fields: FieldSet;
  /** Fields were taken away (force): the entry must be rewritten. */
  changed: boolean;
}

/**
 * Returns the object after applying `applied` (the decoded apply body) as `manager`; `live` is the
 * stored object or undefined when there is none. Inputs are not modified. `typeName` as for
 * applyStrategicMergePatch (e.g. `V1Pod` with `modelSchema`).
 */
export function applyServerSideApply(
  live: unknown,
  applied: unknown,
  schema: PatchSchema,
  typeName: string | undefined,
  manager: string,
  options: ApplyOptions = {},
): JsonObject {
  if (!manager) {
    throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply requests', {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply requests', field: 'fieldManager' }],
    });
  }
  if (!isObject(applied)) {
    throw badRequest(`error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${goJsonTypeName(applied)} into Go value of type map[string]interface {}`);
  }
  if (deeperThan(applied, MAX_DEPTH)) throw tooDeep();
  if (typeof applied.apiVersion !== 'string' || applied.apiVersion === '' || typeof applied.kind !== 'string' || applied.kind === '') {
    throw badRequest('error decoding YAML: apiVersion and kind must be set in an apply configuration');
  }
  const appliedMeta = getOwn(applied, 'metadata');
  if (isObject(appliedMeta) && getOwn(appliedMeta, 'managedFields') !== undefined && getOwn(appliedMeta, 'managedFields') !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }

  const walker = new Walker(schema);
  const owned = walker.owned(applied, typeName);
  const entry = (fields: FieldSet): JsonObject => ({
    apiVersion: applied.apiVersion,
    fieldsType: 'FieldsV1',
    fieldsV1: fields.toFieldsV1(),
    manager,
    operation: 'Apply',
    time: options.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });

  if (!isObject(live)) {
    const created = pruned(applied) as JsonObject;
    metadataOf(created).managedFields = [entry(owned)];
    return created;
  }
  if (deeperThan(live, MAX_DEPTH)) throw badRequest('the stored object nests too deeply');

  const entries = readManagedFields(live);
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply' && getOwn(e.raw, 'subresource') === undefined);
  const others = entries.filter((e) => e !== mine);

  // Conflicts: a value this apply changes in a field another manager owns.
  const liveItems = new ItemIndex();
  const appliedItems = new ItemIndex();
  const conflicts: Array<{ entry: Entry; path: FieldPath }> = [];
  for (const path of owned) {
    if (path[path.length - 1].startsWith('k:')) continue; // owning an item's existence never conflicts
    const owners = others.filter((o) => o.fields.has(path));
    if (owners.length === 0) continue;
    const now = valueAt(live, path, liveItems);
    if (now === undefined || deepEqual(now, valueAt(applied, path, appliedItems))) continue;
    for (const o of owners) conflicts.push({ entry: o, path });
  }
  conflicts.sort((a, b) => (pathString(a.path) < pathString(b.path) ? -1 : 1));
  if (conflicts.length > 0 && !options.force) throw conflictError(conflicts);
  for (const c of conflicts) {
    c.entry.fields.delete(c.path);
    c.entry.changed = true;
  }

  const result = walker.mergeInto(deepClone(live) as JsonObject, applied, typeName);
  const resultItems = new ItemIndex();

  // Fields this manager stopped applying go away unless someone else still owns them or something below.
  const removed = mine ? mine.fields.difference(owned) : [];
  // Deepest first, so a container emptied by removals is seen empty when its own path comes up.
  removed.sort((a, b) => b.length - a.length);
  // A map whose `.` it no longer claims stays while it still applies something inside it.
  for (const path of removed) if (!owned.ownsAtOrBelow(path) && !others.some((o) => o.fields.ownsAtOrBelow(path))) removeAt(result, path, resultItems);

  const managed: unknown[] = [];
  let placed = false;
  for (const e of entries) {
    if (e === mine) {
      // An apply that owns what it owned before keeps its entry, time included (no-op applies stay no-ops).
      managed.push(deepEqual(e.fields.toFieldsV1(), owned.toFieldsV1()) && getOwn(e.raw, 'apiVersion') === applied.apiVersion ? deepClone(e.raw) : entry(owned));
      placed = true;
    } else if (!e.changed) managed.push(deepClone(e.raw));
    else if (!e.fields.isEmpty()) managed.push({ ...(deepClone(e.raw) as JsonObject), fieldsV1: e.fields.toFieldsV1() });
  }
  if (!placed) managed.push(entry(owned));
  metadataOf(result).managedFields = managed;
  return result;
}

function metadataOf(o: JsonObject): JsonObject {
  const m = getOwn(o, 'metadata');
  if (isObject(m)) return m;
  const fresh: JsonObject = {};
  o.metadata = fresh;
  return fresh;
}

function readManagedFields(live: JsonObject): Entry[] {
  const meta = getOwn(live, 'metadata');
  const list = isObject(meta) ? getOwn(meta, 'managedFields') : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((raw) => {
    const fields = FieldSet.fromFieldsV1(getOwn(raw, 'fieldsV1'));
    const manager = getOwn(raw, 'manager');
    const operation = getOwn(raw, 'operation');
    return { raw, manager: typeof manager === 'string' ? manager : '', operation: typeof operation === 'string' ? operation : '', fields, changed: false };
  });
}

function describeManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  const sub = getOwn(e.raw, 'subresource');
  if (typeof sub === 'string' && sub !== '') s += ` with subresource ${JSON.stringify(sub)}`;
  if (e.operation === 'Update') {
    const apiVersion = getOwn(e.raw, 'apiVersion');
    const time = getOwn(e.raw, 'time');
    s += ` using ${typeof apiVersion === 'string' ? apiVersion : ''}`;
    if (typeof time === 'string' && time !== '') s += ` at ${time}`;
  }
  return s;
}

/** The apiserver's apply conflict: 409 Conflict, one FieldManagerConflict cause per field. */
function conflictError(conflicts: Array<{ entry: Entry; path: FieldPath }>): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.entry)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0].entry)}: ${pathString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = describeManager(c.entry);
      byManager.set(m, [...(byManager.get(m) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of byManager.get(m) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

function isSetList(f: PatchField | undefined): boolean {
  return f !== undefined && f.list && (f.strategy ?? '').split(',').includes('merge');
}

function keyElement(item: JsonObject, mergeKey: string): string {
  return `k:${JSON.stringify({ [mergeKey]: getOwn(item, mergeKey) })}`;
}

class Walker {
  readonly #schema: PatchSchema;
  /** When set, the paths of every map-typed field met while collecting (their `.` is owned by whoever made them). */
  readonly maps: FieldSet | undefined;

  constructor(schema: PatchSchema, trackMaps = false) {
    this.#schema = schema;
    this.maps = trackMaps ? new FieldSet() : undefined;
  }

  #field(typeName: string | undefined, k: string): PatchField | undefined {
    return typeName === undefined ? undefined : this.#schema.field(typeName, k);
  }

  /**
   * The field paths an object (an apply configuration) sets. `scope` 'status' tracks only status, as
   * a status subresource write does; otherwise status is not tracked.
   */
  owned(applied: JsonObject, typeName: string | undefined, scope: 'main' | 'status' = 'main'): FieldSet {
    const out = new FieldSet();
    for (const k of Object.keys(applied)) {
      const v = applied[k];
      if (v === null) continue;
      if (scope === 'status' ? k !== 'status' : unownedTop.has(k)) continue;
      const f = this.#field(typeName, k);
      if (k === 'metadata' && isObject(v)) {
        const meta: JsonObject = {};
        for (const mk of Object.keys(v)) if (!unownedMetadata.has(mk)) setOwn(meta, mk, v[mk]);
        if (Object.keys(meta).length > 0) {
          // labels, annotations... are maps of ObjectMeta (#value notices them).
          for (const mk of Object.keys(meta)) if (meta[mk] !== null) this.#value(meta[mk], this.#field(f?.typeName, mk), ['f:metadata', `f:${mk}`], out.root.child('f:metadata').child(`f:${mk}`));
        }
        continue;
      }
      this.#value(v, f, [`f:${k}`], out.root.child(`f:${k}`));
    }
    return out;
  }

  // `path` is only for messages; ownership is recorded on `node`, the trie node of that path.
  #collect(obj: JsonObject, typeName: string | undefined, path: string[], node: FieldNode): void {
    const keys = Object.keys(obj).filter((k) => obj[k] !== null);
    if (keys.length === 0) {
      node.owned = true;
      return;
    }
    for (const k of keys) this.#value(obj[k], this.#field(typeName, k), [...path, `f:${k}`], node.child(`f:${k}`));
  }

  #value(v: unknown, f: PatchField | undefined, path: string[], node: FieldNode): void {
    if (Array.isArray(v) && isSetList(f) && f) {
      const mergeKey = f.mergeKey ?? '';
      for (const item of v) {
        if (mergeKey === '') {
          if (item !== null && typeof item === 'object') throw badRequest(`${pathString(path)}: expected a list of scalars`);
          node.child(`v:${JSON.stringify(item)}`).owned = true;
          continue;
        }
        if (!isObject(item) || getOwn(item, mergeKey) === undefined || getOwn(item, mergeKey) === null) {
          throw badRequest(`${pathString(path)}: associative list with keys has an element that omits key field ${JSON.stringify(mergeKey)}`);
        }
        const k = getOwn(item, mergeKey);
        if (typeof k === 'object') throw badRequest(`${pathString(path)}: key field ${JSON.stringify(mergeKey)} must be a scalar`);
        const el = keyElement(item, mergeKey);
        const itemNode = node.child(el);
        itemNode.owned = true;
        this.#collect(item, f.typeName, [...path, el], itemNode);
      }
      return;
    }
    if (isObject(v)) {
      if (this.maps && isMapField(f)) this.maps.add(path);
      this.#collect(v, f?.typeName, path, node);
    } else node.owned = true;
  }

  /** Merges the configuration into `target` (mutated and returned). */
  mergeInto(target: JsonObject, applied: JsonObject, typeName: string | undefined): JsonObject {
    for (const k of Object.keys(applied)) {
      const v = applied[k];
      if (v === null) {
        delete target[k];
        continue;
      }
      const f = this.#field(typeName, k);
      const cur = getOwn(target, k);
      if (Array.isArray(v) && Array.isArray(cur) && isSetList(f) && f) setOwn(target, k, this.#mergeList(cur, v, f));
      else if (isObject(v) && isObject(cur)) this.mergeInto(cur, v, f?.typeName);
      else setOwn(target, k, pruned(v));
    }
    return target;
  }

  #mergeList(live: unknown[], applied: unknown[], f: PatchField): unknown[] {
    const mergeKey = f.mergeKey ?? '';
    const out = live.slice();
    if (mergeKey === '') {
      const have = new Set(out);
      for (const v of applied) {
        if (!have.has(v)) {
          have.add(v);
          out.push(v);
        }
      }
      return out;
    }
    const index = new Map<unknown, number>();
    out.forEach((item, i) => {
      if (isObject(item) && !index.has(getOwn(item, mergeKey))) index.set(getOwn(item, mergeKey), i);
    });
    for (const item of applied) {
      const k = isObject(item) ? getOwn(item, mergeKey) : undefined;
      const at = index.get(k);
      const cur = at === undefined ? undefined : out[at];
      if (at !== undefined && isObject(cur) && isObject(item)) this.mergeInto(cur, item, f.typeName);
      else {
        index.set(k, out.length);
        out.push(pruned(item));
      }
    }
    return out;
  }
}

/**
 * Finds list items named by `k:`/`v:` path elements. Each list is indexed once per key shape, so
 * walking many paths through a long list stays linear.
 */
class ItemIndex {
  readonly #cache = new WeakMap<unknown[], Map<string, Map<string, number>>>();

  find(list: unknown[], el: string): number {
    let shape: string;
    let canonical: (item: unknown) => string | undefined;
    if (el.startsWith('k:')) {
      let key: unknown;
      try {
        key = JSON.parse(el.slice(2));
      } catch {
        return -1;
      }
      if (!isObject(key)) return -1;
      const names = Object.keys(key);
      shape = `k:${JSON.stringify(names)}`;
      canonical = (item) => {
        if (!isObject(item)) return undefined;
        const k: JsonObject = {};
        for (const n of names) setOwn(k, n, getOwn(item, n));
        return `k:${JSON.stringify(k)}`;
      };
      el = `k:${JSON.stringify(key)}`;
    } else if (el.startsWith('v:')) {
      shape = 'v';
      canonical = (item) => (item !== null && typeof item === 'object' ? undefined : `v:${JSON.stringify(item)}`);
    } else return -1;
    let byShape = this.#cache.get(list);
    if (!byShape) {
      byShape = new Map();
      this.#cache.set(list, byShape);
    }
    let index = byShape.get(shape);
    if (!index) {
      index = new Map();
      for (let i = 0; i < list.length; i++) {
        const c = canonical(list[i]);
        if (c !== undefined && !index.has(c)) index.set(c, i);
      }
      byShape.set(shape, index);
    }
    return index.get(el) ?? -1;
  }

  /** Forgets a list's indexes after it changed. */
  invalidate(list: unknown[]): void {
    this.#cache.delete(list);
  }
}

function step(cur: unknown, el: string, items: ItemIndex): unknown {
  if (el.startsWith('f:')) return isObject(cur) ? getOwn(cur, el.slice(2)) : undefined;
  if (!Array.isArray(cur)) return undefined;
  const i = items.find(cur, el);
  return i < 0 ? undefined : cur[i];
}

function valueAt(root: unknown, path: FieldPath, items: ItemIndex): unknown {
  let cur = root;
  for (const el of path) {
    cur = step(cur, el, items);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * Removes the value at `path`. A map or list left empty by the removal goes too, as
 * structured-merge-diff turns it into null (one level: its parent keeps its other members).
 */
function removeAt(root: unknown, path: FieldPath, items: ItemIndex): void {
  const parentPath = path.slice(0, -1);
  const parent = valueAt(root, parentPath, items);
  const el = path[path.length - 1];
  let removed = false;
  if (el.startsWith('f:')) {
    if (isObject(parent) && Object.hasOwn(parent, el.slice(2))) {
      delete parent[el.slice(2)];
      removed = true;
    }
  } else if (Array.isArray(parent)) {
    const i = items.find(parent, el);
    if (i >= 0) {
      parent.splice(i, 1);
      items.invalidate(parent);
      removed = true;
    }
  }
  const empty = Array.isArray(parent) ? parent.length === 0 : isObject(parent) && Object.keys(parent).length === 0;
  const last = parentPath[parentPath.length - 1];
  if (removed && empty && last?.startsWith('f:')) {
    const grandparent = valueAt(root, parentPath.slice(0, -1), items);
    if (isObject(grandparent)) delete grandparent[last.slice(2)];
  }
}

export interface UpdateTracking {
  /** apiVersion the write was made in (recorded on the entry). */
  apiVersion: string;
  /** The subresource written ("status"...), recorded on the entry; undefined for the main resource. */
  subresource?: string;
  /** RFC 3339 time of the write. */
  now: string;
}

/**
 * Records a non-apply write (create, update, patch, a status write) in `next.metadata.managedFields`,
 * as kube-apiserver's field manager does: the fields this write set or changed become `manager`'s,
 * under an `Update` entry for its apiVersion and subresource, and leave every other manager's set;
 * fields it removed leave every set; entries left with nothing are dropped. The managedFields the
 * write itself carries are the starting point when it sent some (that is how kubectl moves
 * client-side-apply ownership to server-side apply), except for subresources, which start from
 * `live`'s. `live` is undefined on create. Mutates `next` only.
 */
export function recordUpdate(live: JsonObject | undefined, next: JsonObject, schema: PatchSchema, typeName: string | undefined, manager: string, t: UpdateTracking): void {
  if (deeperThan(next, MAX_DEPTH)) return;
  const scope = t.subresource === 'status' ? 'status' : 'main';
  const nextWalker = new Walker(schema, true);
  const nextSet = nextWalker.owned(next, typeName, scope);
  const liveWalker = new Walker(schema, true);
  const liveSet = live ? liveWalker.owned(live, typeName, scope) : new FieldSet();
  const liveItems = new ItemIndex();
  const nextItems = new ItemIndex();
  const changed: FieldPath[] = [];
  for (const path of nextSet) {
    const last = path[path.length - 1] ?? '';
    // A list item's existence changes owner only when the item is new.
    if (last.startsWith('k:') || last.startsWith('v:')) {
      if (!liveSet.has(path)) changed.push(path);
      continue;
    }
    if (!live || !liveSet.has(path) || !deepEqual(valueAt(live, path, liveItems), valueAt(next, path, nextItems))) changed.push(path);
  }
  const removed = liveSet.difference(nextSet);
  // A map this write made is this manager's (`.`); one it removed is nobody's.
  for (const path of nextWalker.maps ?? []) if (!live || !liveWalker.maps?.has(path)) changed.push(path);
  if (live) for (const path of liveWalker.maps?.difference(nextWalker.maps ?? new FieldSet()) ?? []) removed.push(path);

  const provided = t.subresource === undefined ? readManagedFields(next) : [];
  const entries = provided.some((e) => !e.fields.isEmpty()) ? provided : live ? readManagedFields(live) : [];
  const sub = t.subresource ?? '';
  const isMine = (e: Entry) => e.manager === manager && e.operation === 'Update' && getOwn(e.raw, 'apiVersion') === t.apiVersion && (getOwn(e.raw, 'subresource') ?? '') === sub;
  let mine = entries.find(isMine);
  for (const e of entries) {
    if (e === mine) continue;
    for (const p of [...changed, ...removed]) {
      if (e.fields.has(p)) {
        e.fields.delete(p);
        e.changed = true;
      }
    }
  }
  if (changed.length === 0 && removed.every((p) => !mine?.fields.has(p)) && entries.every((e) => !e.changed)) {
    // Nothing changed owner: the entries stand as they were.
    metadataOf(next).managedFields = entries.map((e) => deepClone(e.raw));
    cleanManaged(next);
    return;
  }
  if (!mine) {
    mine = { raw: { manager, operation: 'Update', apiVersion: t.apiVersion }, manager, operation: 'Update', fields: new FieldSet(), changed: true };
    entries.push(mine);
  }
  for (const p of changed) mine.fields.add(p);
  for (const p of removed) mine.fields.delete(p);
  mine.changed = true;
  const out: unknown[] = [];
  for (const e of entries) {
    if (e.fields.isEmpty()) continue;
    if (e === mine) {
      out.push({ manager, operation: 'Update', apiVersion: t.apiVersion, time: t.now, fieldsType: 'FieldsV1', fieldsV1: e.fields.toFieldsV1(), ...(sub ? { subresource: sub } : {}) });
    } else if (!e.changed) out.push(deepClone(e.raw));
    else out.push({ ...(deepClone(e.raw) as JsonObject), fieldsV1: e.fields.toFieldsV1() });
  }
  metadataOf(next).managedFields = out;
  cleanManaged(next);
}

/** An empty managedFields list is not kept (Kubernetes omits it). */
function cleanManaged(o: JsonObject): void {
  const meta = getOwn(o, 'metadata');
  if (isObject(meta) && Array.isArray(getOwn(meta, 'managedFields')) && (getOwn(meta, 'managedFields') as unknown[]).length === 0) delete meta.managedFields;
}
