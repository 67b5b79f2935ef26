// Kubernetes strategic merge patch (apimachinery/pkg/util/strategicpatch, applied as the apiserver
// does with MergeParallelList and IgnoreUnmatchedNulls) over decoded JSON values.
//
// Semantics matched, including the less obvious ones:
// - `null` deletes a field; maps merge recursively; lists whose field has strategy `merge` merge by
//   their merge key (primitive lists with an empty key merge as sets); other lists are replaced.
// - Ordering of a merged list follows apimachinery: with `$setElementOrder/<field>` the listed order
//   wins; without it, items named in the patch keep the patch's order and are interleaved with the
//   server-only items by their live positions — so an item that is new (not live) is placed before
//   the server-only items that follow it, e.g. adding container "b" to [a] without
//   $setElementOrder gives [b, a], exactly as kube-apiserver does (the Kubernetes docs' `kubectl
//   patch` example shows it). kubectl always sends $setElementOrder, so apply keeps the file's order.
// - `$patch: delete` in a merge-list element removes the items with that key; in a map it removes
//   the map from its parent (apimachinery leaves `{}` there, which decodes to an empty struct; for a
//   map-typed field that would differ, so tinykube removes it). `$patch: replace` replaces the map or
//   (as an element) the whole list. `$patch: merge` is accepted as the default (apimachinery rejects
//   it in lists with "merging lists cannot yet be specified"). Any other `$patch` value → 400.
// - `$retainKeys`, `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` as apimachinery.
//   Any other key starting with `$` → 400 (the real server would store it and then fail strict
//   decoding with 422 "unknown field").
// - Values taken from the patch where nothing is live are cleaned: nested nulls and directives are
//   resolved against an empty value instead of leaking `$patch` keys into the stored object.

import { PatchApplyError, decodeError, smpBadRequest, smpMessages, tooDeep } from './errors.ts';
import { MAX_DEPTH, deepClone, deeperThan, getOwn, goFormat, goJsonTypeName, isObject, jsonKind, setOwn, type JsonObject } from './json.ts';
import type { PatchField, PatchSchema } from './schema.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';

/**
 * Applies a strategic merge patch to a copy of `doc`. `typeName` names the schema type of `doc`
 * (for `modelSchema`: the client-node model name, e.g. `V1Pod`); undefined means "no schema".
 * Neither `doc` nor `patch` is modified.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: PatchSchema, typeName: string | undefined): JsonObject {
  if (!isObject(patch)) throw decodeError(`json: cannot unmarshal ${goJsonTypeName(patch)} into Go value of type map[string]interface {}`);
  if (!isObject(doc)) throw smpBadRequest(smpMessages.badJSONDoc);
  if (deeperThan(patch, MAX_DEPTH)) throw tooDeep();
  if (deeperThan(doc, MAX_DEPTH)) throw smpBadRequest(smpMessages.badJSONDoc);
  const merger = new StrategicMerger(schema);
  return merger.mergeMap(deepClone(doc) as JsonObject, patch, typeName) ?? {};
}

function strategyOf(f: PatchField | undefined): string {
  if (!f?.strategy) return '';
  return f.strategy.split(',').filter((s) => s !== 'retainKeys')[0] ?? '';
}

function isMergeList(f: PatchField | undefined): boolean {
  return strategyOf(f) === 'merge';
}

/** Merge-key values are compared with Go's ==: only scalars can be keys. */
function keyValue(item: unknown, mergeKey: string): unknown {
  if (!isObject(item)) throw smpBadRequest(`expected a map, but received a ${goJsonTypeName(item)}`);
  const v = getOwn(item, mergeKey);
  if (v === undefined) throw smpBadRequest(`map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}`);
  if (v !== null && typeof v === 'object') throw smpBadRequest(`merge key ${mergeKey} of ${goFormat(item)} is not a scalar`);
  return v;
}

function scalarValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object') throw smpBadRequest(smpMessages.primitiveList);
  return v;
}

/** The common element kind of the lists, as apimachinery's sliceElementType; undefined when all are empty. */
function elementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = jsonKind(v);
      if (k === 'array') throw new PatchApplyError(smpMessages.listOfLists);
      if (kind === undefined) kind = k;
      else if (kind !== k) throw smpBadRequest(`list element types are not identical: ${goFormat(lists)}`);
    }
  }
  return kind;
}

function stableSortBy<T>(items: T[], rank: (v: T) => number): T[] {
  return items
    .map((v, i) => ({ v, i, r: rank(v) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.v);
}

/**
 * apimachinery's normalizeElementOrder: items of `merged` named in `patchOrder` are sorted by it,
 * the rest ("server-only") by `serverOrder`, then the two are interleaved by live position, the
 * patch item winning whenever either side is not live.
 */
function normalizeOrder(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], key: (v: unknown) => unknown): unknown[] {
  const patchIndex = new Map<unknown, number>();
  patchOrder.forEach((v, i) => {
    const k = key(v);
    if (!patchIndex.has(k)) patchIndex.set(k, i);
  });
  const serverIndex = new Map<unknown, number>();
  serverOrder.forEach((v, i) => {
    const k = key(v);
    if (!serverIndex.has(k)) serverIndex.set(k, i);
  });
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) (patchIndex.has(key(v)) ? inPatch : serverOnly).push(v);
  const left = stableSortBy(serverOnly, (v) => serverIndex.get(key(v)) ?? Number.MAX_SAFE_INTEGER);
  const right = stableSortBy(inPatch, (v) => patchIndex.get(key(v)) ?? Number.MAX_SAFE_INTEGER);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = serverIndex.get(key(left[i]));
      const ri = serverIndex.get(key(right[j]));
      if (li !== undefined && ri !== undefined && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

class StrategicMerger {
  readonly #schema: PatchSchema;

  constructor(schema: PatchSchema) {
    this.#schema = schema;
  }

  #field(typeName: string | undefined, k: string): PatchField | undefined {
    return typeName === undefined ? undefined : this.#schema.field(typeName, k);
  }

  /** Merges `patch` into `original` (mutated and returned); undefined when the patch deletes the map. */
  mergeMap(original: JsonObject, patch: JsonObject, typeName: string | undefined): JsonObject | undefined {
    const handled = new Set<string>([DIRECTIVE, RETAIN_KEYS]);
    const directive = getOwn(patch, DIRECTIVE);
    if (directive !== undefined) {
      if (directive === 'delete') return undefined;
      if (directive === 'replace') {
        original = {};
      } else if (directive !== 'merge') {
        throw smpBadRequest(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
      }
    }

    const retain = getOwn(patch, RETAIN_KEYS);
    if (retain !== undefined) this.#retainKeys(original, patch, retain);

    for (const k of Object.keys(patch)) {
      if (!k.startsWith(SET_ORDER_PREFIX)) continue;
      handled.add(k);
      const field = k.slice(SET_ORDER_PREFIX.length);
      if (this.#setElementOrder(original, patch, field, getOwn(patch, k), typeName)) handled.add(field);
    }

    const deletions: string[] = [];
    for (const k of Object.keys(patch)) {
      if (handled.has(k)) continue;
      if (k.startsWith(DELETE_PRIMITIVE_PREFIX)) {
        deletions.push(k);
        continue;
      }
      if (k.startsWith('$')) throw smpBadRequest(`unknown strategic merge patch directive ${JSON.stringify(k)}`);
      const pv = patch[k];
      if (pv === null) {
        delete original[k];
        continue;
      }
      const f = this.#field(typeName, k);
      const cur = getOwn(original, k);
      let next: unknown;
      if (cur === undefined || cur === null || jsonKind(cur) !== jsonKind(pv)) next = this.fresh(pv, f);
      else if (isObject(pv)) next = strategyOf(f) === 'replace' ? this.fresh(pv, f) : this.mergeMap(cur as JsonObject, pv, f?.typeName);
      else if (Array.isArray(pv)) next = isMergeList(f) ? this.mergeList(cur as unknown[], pv, f) : this.fresh(pv, f);
      else next = pv;
      if (next === undefined) delete original[k];
      else setOwn(original, k, next);
    }

    for (const k of deletions) {
      const field = k.slice(DELETE_PRIMITIVE_PREFIX.length);
      const values = patch[k];
      if (!Array.isArray(values)) throw smpBadRequest(smpMessages.primitiveList);
      const remove = new Set(values.map(scalarValue));
      const cur = getOwn(original, field);
      if (cur === undefined || cur === null) continue;
      if (!Array.isArray(cur)) throw smpBadRequest(smpMessages.primitiveList);
      setOwn(
        original,
        field,
        cur.filter((v) => !remove.has(scalarValue(v))),
      );
    }
    return original;
  }

  #retainKeys(original: JsonObject, patch: JsonObject, retain: unknown): void {
    if (!Array.isArray(retain)) throw smpBadRequest(smpMessages.retainKeys);
    const keep = new Set<unknown>(retain);
    for (const k of Object.keys(patch)) {
      if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX)) continue;
      if (patch[k] === null) continue;
      if (!keep.has(k)) throw smpBadRequest(smpMessages.retainKeys);
    }
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }

  /** Handles `$setElementOrder/<field>`; returns true when it produced the field (so the main loop skips it). */
  #setElementOrder(original: JsonObject, patch: JsonObject, field: string, order: unknown, typeName: string | undefined): boolean {
    if (!Array.isArray(order)) throw smpBadRequest(smpMessages.setElementOrder);
    const f = this.#field(typeName, field);
    const mergeKey = f?.mergeKey ?? '';
    const liveValue = getOwn(original, field);
    const live = Array.isArray(liveValue) ? liveValue : undefined;
    const patchValue = getOwn(patch, field);
    if (patchValue !== undefined && !Array.isArray(patchValue)) throw smpBadRequest(smpMessages.setElementOrder);
    const patchList = patchValue;
    this.#validateOrder(patchList ?? [], order, mergeKey);

    let merged: unknown[];
    if (live && patchList) merged = isMergeList(f) ? this.mergeList(live, patchList, f) : (this.fresh(patchList, f) as unknown[]);
    else if (live) merged = live;
    else if (patchList) merged = this.fresh(patchList, f) as unknown[];
    else return false;

    if (merged.length > 0) {
      const kind = elementKind(merged);
      let key: (v: unknown) => unknown;
      if (kind === 'object') {
        if (mergeKey === '') throw smpBadRequest(smpMessages.setElementOrder);
        key = (v) => keyValue(v, mergeKey);
      } else key = scalarValue;
      merged = normalizeOrder(merged, order, live ?? [], key);
    }
    setOwn(original, field, merged);
    return true;
  }

  /** apimachinery's validatePatchWithSetOrderList: patch items must appear in the order list, in its order. */
  #validateOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
    if (patchList.length === 0 || order.length === 0) return;
    const items = mergeKey === '' ? patchList : patchList.filter((v) => !(isObject(v) && getOwn(v, DIRECTIVE) === 'delete'));
    const same = (a: unknown, b: unknown): boolean => (mergeKey === '' ? scalarValue(a) === scalarValue(b) : keyValue(a, mergeKey) === keyValue(b, mergeKey));
    let p = 0;
    let o = 0;
    while (p < items.length && o < order.length) {
      if (isObject(items[p]) && getOwn(items[p] as JsonObject, DIRECTIVE) !== undefined) {
        p++;
        continue;
      }
      if (same(items[p], order[o])) p++;
      o++;
    }
    if (p < items.length) {
      throw smpBadRequest(`The order in patch list:\n${goFormat(patchList)}\n doesn't match $setElementOrder list:\n${goFormat(order)}\n`);
    }
  }

  /** Merges a patch list into a live list of a `merge`-strategy field. */
  mergeList(original: unknown[], patch: unknown[], f: PatchField | undefined): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind(original, patch);
    if (kind !== 'object') {
      const seen = new Set<unknown>();
      const merged: unknown[] = [];
      for (const v of [...original, ...patch]) {
        if (!seen.has(v)) {
          seen.add(v);
          merged.push(v);
        }
      }
      return normalizeOrder(merged, patch, original, (v) => v);
    }
    const mergeKey = f?.mergeKey ?? '';
    if (mergeKey === '') throw smpBadRequest('cannot merge lists without merge key for type map');

    // Special elements first ($patch directives), as apimachinery's mergeSliceWithSpecialElements.
    const regular: JsonObject[] = [];
    const deleted = new Set<unknown>();
    let replace = false;
    for (const v of patch) {
      const item = v as JsonObject;
      const d = getOwn(item, DIRECTIVE);
      if (d === undefined) regular.push(item);
      else if (d === 'delete') deleted.add(keyValue(item, mergeKey));
      else if (d === 'replace') replace = true;
      else if (d !== 'merge') throw smpBadRequest(`unknown patch type: ${goFormat(d)} in map: ${goFormat(item)}`);
    }
    const elemType = f?.typeName;
    let base: unknown[];
    let items: JsonObject[];
    if (replace) {
      base = regular.map((v) => this.mergeMap({}, v, elemType)).filter((v) => v !== undefined);
      items = [];
    } else {
      base = deleted.size === 0 ? original : original.filter((v) => !(isObject(v) && deleted.has(getOwn(v, mergeKey))));
      items = regular;
    }

    const merged = base.slice();
    const index = new Map<unknown, number>();
    merged.forEach((v, i) => {
      if (!isObject(v)) return;
      const k = getOwn(v, mergeKey);
      if (k !== undefined && !index.has(k)) index.set(k, i);
    });
    for (const item of items) {
      const k = keyValue(item, mergeKey);
      const at = index.get(k);
      if (at !== undefined) {
        merged[at] = this.mergeMap(merged[at] as JsonObject, item, elemType) ?? {};
      } else {
        const fresh = this.mergeMap({}, item, elemType);
        if (fresh !== undefined) {
          index.set(k, merged.length);
          merged.push(fresh);
        }
      }
    }
    return normalizeOrder(merged, items, base, (v) => keyValue(v, mergeKey));
  }

  /** A patch value placed where nothing (or something of another kind) is live: directives resolved against empty. */
  fresh(v: unknown, f: PatchField | undefined): unknown {
    if (isObject(v)) return this.mergeMap({}, v, f?.typeName);
    if (Array.isArray(v)) {
      if (isMergeList(f)) return this.mergeList([], v, f);
      const elem: PatchField | undefined = f ? { list: false, typeName: f.typeName, mergeKey: undefined, strategy: undefined } : undefined;
      const out: unknown[] = [];
      for (const e of v) {
        if (isObject(e)) {
          const m = this.mergeMap({}, e, elem?.typeName);
          if (m !== undefined) out.push(m);
        } else if (Array.isArray(e)) out.push(this.fresh(e, undefined));
        else out.push(e);
      }
      return out;
    }
    return v;
  }
}

