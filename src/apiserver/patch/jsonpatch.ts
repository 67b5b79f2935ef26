// RFC 6902 JSON Patch over decoded JSON values, with the apiserver's outcomes:
// - the body is not a list of operation objects, or an op/path/from is not a string → 400
//   (`error decoding patch: ...`, from the apiserver's strict decode);
// - more than 10,000 operations → 413 (kube-apiserver's maxJSONPatchOperations);
// - an operation that does not apply (failed test, missing path, bad index, unknown op) → 422
//   PatchApplyError (generic message; the reason is kept in `.detail`).
// Like evanphx/json-patch v4 (which the apiserver uses), a missing `value` is null and a `test` for
// null passes on an absent member. Unlike it, negative array indexes are rejected (RFC 6902).
// `copy` can double a document per operation, so the total size copied is capped (as evanphx's
// AccumulatedCopySizeLimit), and the result may not nest deeper than MAX_DEPTH.

import { StatusError } from '../../util/status.ts';
import { PatchApplyError, decodeError, tooDeep } from './errors.ts';
import { MAX_DEPTH, deepClone, deepEqual, deeperThan, getOwn, goJsonTypeName, isObject, setOwn, sizeUpTo, type JsonObject } from './json.ts';

export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** Bytes all `copy` operations of one patch may duplicate (the apiserver's default body limit, 3 MiB). */
export const MAX_COPY_BYTES = 3 * 1024 * 1024;

interface Operation {
  op: string;
  path: string | undefined;
  from: string | undefined;
  value: unknown;
  index: number;
}

/** Applies `patch` (the decoded body: an array of operations) to a copy of `doc`; `doc` is not modified. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodeOperations(patch);
  if (deeperThan(doc, MAX_DEPTH)) throw new PatchApplyError('document nests too deeply');
  let root = deepClone(doc);
  let copyBudget = MAX_COPY_BYTES;
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        root = add(root, op, pointer(op, op.path), deepClone(op.value));
        break;
      case 'remove':
        root = remove(root, op, pointer(op, op.path));
        break;
      case 'replace': {
        const p = pointer(op, op.path);
        get(root, op, p);
        root = p.length === 0 ? deepClone(op.value) : setAt(root, op, p, deepClone(op.value));
        break;
      }
      case 'move': {
        const from = pointer(op, op.from, 'from');
        const to = pointer(op, op.path);
        if (from.length < to.length && from.every((t, i) => t === to[i])) fail(op, `cannot move ${op.from} into its own child ${op.path}`);
        const value = get(root, op, from);
        root = remove(root, op, from);
        root = add(root, op, to, value);
        break;
      }
      case 'copy': {
        const value = get(root, op, pointer(op, op.from, 'from'));
        copyBudget -= sizeUpTo(value, copyBudget);
        if (copyBudget < 0) fail(op, `copies exceed the limit of ${MAX_COPY_BYTES} bytes`);
        root = add(root, op, pointer(op, op.path), deepClone(value));
        break;
      }
      case 'test': {
        const p = pointer(op, op.path);
        const actual = tryGet(root, p);
        const expected = op.value;
        const ok = actual === undefined ? expected === null : deepEqual(actual, expected);
        if (!ok) fail(op, `testing value ${op.path} failed`);
        break;
      }
      default:
        fail(op, `Unexpected kind: ${op.op}`);
    }
  }
  if (deeperThan(root, MAX_DEPTH)) throw new PatchApplyError(`the patched document nests deeper than ${MAX_DEPTH}`);
  return root;
}

function decodeOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw decodeError(`json: cannot unmarshal ${goJsonTypeName(patch)} into Go value of type []handlers.jsonPatchOp`);
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  }
  if (deeperThan(patch, MAX_DEPTH)) throw tooDeep();
  return patch.map((raw: unknown, index): Operation => {
    if (!isObject(raw)) throw decodeError(`json: cannot unmarshal ${goJsonTypeName(raw)} into Go value of type handlers.jsonPatchOp`);
    const str = (field: string): string | undefined => {
      const v = getOwn(raw, field);
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw decodeError(`json: cannot unmarshal ${goJsonTypeName(v)} into Go struct field jsonPatchOp.${field} of type string`);
      return v;
    };
    const value = getOwn(raw, 'value');
    return { op: str('op') ?? '', path: str('path'), from: str('from'), value: value === undefined ? null : value, index };
  });
}

function fail(op: Operation, detail: string): never {
  throw new PatchApplyError(`operation ${op.index} (${op.op}): ${detail}`);
}

/** RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 → "/" and ~0 → "~". */
function pointer(op: Operation, s: string | undefined, field = 'path'): string[] {
  if (s === undefined) fail(op, `operation missing ${field} field`);
  if (s === '') return [];
  if (!s.startsWith('/')) fail(op, `JSON pointer ${JSON.stringify(s)} must start with "/"`);
  return s
    .slice(1)
    .split('/')
    .map((t) => {
      if (/~(?![01])/.test(t)) fail(op, `invalid escape in JSON pointer ${JSON.stringify(s)}`);
      return t.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** An array index token: decimal without sign or leading zeros. */
function arrayIndex(token: string): number | undefined {
  return /^(0|[1-9][0-9]{0,15})$/.test(token) ? Number(token) : undefined;
}

function child(container: unknown, token: string): unknown {
  if (Array.isArray(container)) {
    const i = arrayIndex(token);
    return i !== undefined && i < container.length ? container[i] : undefined;
  }
  if (isObject(container)) return getOwn(container, token);
  return undefined;
}

function tryGet(root: unknown, tokens: string[]): unknown {
  let cur = root;
  for (const t of tokens) {
    cur = child(cur, t);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function get(root: unknown, op: Operation, tokens: string[]): unknown {
  const v = tryGet(root, tokens);
  if (v === undefined) fail(op, `missing path /${tokens.join('/')}`);
  return v;
}

function parentOf(root: unknown, op: Operation, tokens: string[]): unknown {
  const parent = tryGet(root, tokens.slice(0, -1));
  if (parent === null || typeof parent !== 'object') fail(op, `missing path /${tokens.slice(0, -1).join('/')}`);
  return parent;
}

function add(root: unknown, op: Operation, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = parentOf(root, op, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else {
      const i = arrayIndex(last);
      if (i === undefined || i > parent.length) fail(op, `invalid index ${JSON.stringify(last)} for an array of length ${parent.length}`);
      parent.splice(i, 0, value);
    }
  } else setOwn(parent as JsonObject, last, value);
  return root;
}

function setAt(root: unknown, op: Operation, tokens: string[], value: unknown): unknown {
  const parent = parentOf(root, op, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(last);
    if (i === undefined || i >= parent.length) fail(op, `invalid index ${JSON.stringify(last)}`);
    parent[i] = value;
  } else setOwn(parent as JsonObject, last, value);
  return root;
}

function remove(root: unknown, op: Operation, tokens: string[]): unknown {
  if (tokens.length === 0) fail(op, 'cannot remove the whole document');
  const parent = parentOf(root, op, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(last);
    if (i === undefined || i >= parent.length) fail(op, `invalid index ${JSON.stringify(last)} for an array of length ${parent.length}`);
    parent.splice(i, 1);
  } else {
    const o = parent as JsonObject;
    if (!Object.hasOwn(o, last)) fail(op, `missing path /${tokens.join('/')}`);
    delete o[last];
  }
  return root;
}
