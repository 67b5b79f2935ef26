// A table-driven protobuf codec for Kubernetes' built-in kinds: protobuf bytes ↔ the JSON shape the
// JSON API reads and writes. The message table (schema.generated.ts) is extracted from Kubernetes'
// generated.proto files; the types whose JSON form is not their message's (Time, Quantity, …) are
// the special cases below, each written after its Go MarshalJSON / protobuf Unmarshal.
//
// Decoding reproduces what kube-apiserver gets from a protobuf body and would print as JSON: Go's
// decoder fills a struct, and encoding/json then writes it, so
//   - a scalar field is written when non-zero, when its Go field is a pointer (present on the wire
//     means non-nil), or when the field has no `omitempty`;
//   - a struct-valued (non-pointer) message field is always written, `{}` when empty;
//   - empty lists and maps are left out (Go writes `null`, which our pipeline reads as absent);
//   - an embedded struct's fields (Probe's handler, Volume's source) sit in the parent's object.
// Unknown fields are skipped as gogo-protobuf does; a known field with the wrong wire type fails.
//
// Pure and stateless: safe to call concurrently. Decoding throws ProtoDecodeError for bytes that
// are not a valid message; encoding throws ProtoEncodeError for a value that does not fit its type
// (a server bug, as stored objects are validated).

import { messages } from './schema.generated.ts';
import type { FieldDef } from './types.ts';
import { ProtoDecodeError, ProtoReader, ProtoWriter, WIRE_BYTES, WIRE_FIXED64, WIRE_VARINT } from './wire.ts';

export class ProtoEncodeError extends Error {
  override readonly name = 'ProtoEncodeError';
}

/**
 * How many messages deep a body may nest. Real objects nest ~15 levels (a CRD schema a few dozen);
 * the limit keeps hostile bodies from exhausting the stack.
 */
export const maxMessageDepth = 200;

type JSONObject = Record<string, unknown>;

const byNumber = new Map<string, Map<number, FieldDef>>();

function fieldsByNumber(type: string): Map<number, FieldDef> {
  let m = byNumber.get(type);
  if (!m) {
    m = new Map((messages[type]?.fields ?? []).map((f) => [f[0], f]));
    byNumber.set(type, m);
  }
  return m;
}

/** Sets a key without going through a setter (`__proto__` is an ordinary key in a body). */
function put(obj: JSONObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function has(obj: JSONObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

const isScalar = (type: string): boolean => !type.includes('.');

function wireOf(type: string): number {
  switch (type) {
    case 'bool':
    case 'int32':
    case 'int64':
      return WIRE_VARINT;
    case 'double':
      return WIRE_FIXED64;
    default:
      return WIRE_BYTES;
  }
}

// ---- decoding ----

function readScalar(r: ProtoReader, type: string): unknown {
  switch (type) {
    case 'string':
      return Buffer.from(r.bytes()).toString('utf8');
    case 'bytes': {
      const b = r.bytes();
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
    }
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'double':
      return r.fixed64().getFloat64(0, true);
    default:
      throw new ProtoDecodeError(`proto: unsupported scalar type ${type}`);
  }
}

function zeroOf(type: string): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** Decodes one message of `type` into its JSON value (undefined: the value Go writes as null or omits). */
export function decodeMessage(type: string, bytes: Uint8Array, depth = 0): unknown {
  if (depth > maxMessageDepth) throw new ProtoDecodeError('proto: message nests too deeply');
  const special = specials[type];
  if (special) return special.decode(bytes, depth);
  const def = messages[type];
  if (!def) throw new ProtoDecodeError(`proto: no message ${type}`);
  const fields = fieldsByNumber(type);
  const values = new Map<number, unknown>();
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    const f = fields.get(field);
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [, name, ftype, flags] = f;
    if (flags.includes('m')) {
      if (wire !== WIRE_BYTES) throw wrongWire(wire, name);
      const map = (values.get(field) as JSONObject | undefined) ?? {};
      values.set(field, map);
      const [k, v] = decodeMapEntry(r.bytes(), ftype, depth);
      put(map, k, v);
      continue;
    }
    const scalar = isScalar(ftype);
    const repeated = flags.includes('r');
    if (repeated && scalar && wire === WIRE_BYTES && ftype !== 'string' && ftype !== 'bytes') {
      // A packed list of numbers: gogo accepts either form.
      const list = (values.get(field) as unknown[] | undefined) ?? [];
      values.set(field, list);
      const inner = new ProtoReader(r.bytes());
      while (!inner.done()) list.push(readScalar(inner, ftype));
      continue;
    }
    if (wire !== wireOf(ftype)) throw wrongWire(wire, name);
    const v = scalar ? readScalar(r, ftype) : decodeMessage(ftype, r.bytes(), depth + 1);
    if (repeated) {
      const list = (values.get(field) as unknown[] | undefined) ?? [];
      values.set(field, list);
      // An element Go writes as null (an empty Time) stays in the list as null.
      list.push(v ?? null);
    } else {
      values.set(field, v);
    }
  }
  if (def.array) return values.get(1) ?? [];
  const out: JSONObject = {};
  for (const [num, name, ftype, flags] of def.fields) {
    const present = values.has(num);
    const v = values.get(num);
    if (flags.includes('r') || flags.includes('m')) {
      if (present) put(out, name, v);
    } else if (flags.includes('i')) {
      // An embedded Go struct (Probe's handler, Volume's source): its fields are the parent's in JSON.
      const inner = present ? v : decodeMessage(ftype, new Uint8Array(0), depth + 1);
      if (isObject(inner)) for (const [k, x] of Object.entries(inner)) put(out, k, x);
    } else if (!isScalar(ftype)) {
      if (present) {
        if (v !== undefined) put(out, name, v);
      } else if (!flags.includes('p') && !specials[ftype]) {
        // A struct value: Go writes it whether or not it was on the wire.
        put(out, name, decodeMessage(ftype, new Uint8Array(0), depth + 1));
      }
    } else if (present) {
      if (flags.includes('p') || flags.includes('k') || !isZero(v)) put(out, name, v);
    } else if (flags.includes('k')) {
      put(out, name, zeroOf(ftype));
    }
  }
  return out;
}

function decodeMapEntry(bytes: Uint8Array, valueType: string, depth: number): [string, unknown] {
  const r = new ProtoReader(bytes);
  let key = '';
  let value: unknown;
  let valueBytes: Uint8Array | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      if (wire !== WIRE_BYTES) throw wrongWire(wire, 'key');
      key = Buffer.from(r.bytes()).toString('utf8');
    } else if (field === 2) {
      if (wire !== wireOf(valueType)) throw wrongWire(wire, 'value');
      if (isScalar(valueType)) value = readScalar(r, valueType);
      else valueBytes = r.bytes();
    } else {
      r.skip(wire);
    }
  }
  if (!isScalar(valueType)) value = decodeMessage(valueType, valueBytes ?? new Uint8Array(0), depth + 1);
  return [key, value ?? (isScalar(valueType) ? zeroOf(valueType) : null)];
}

function wrongWire(wire: number, name: string): ProtoDecodeError {
  return new ProtoDecodeError(`proto: wrong wireType = ${wire} for field ${name}`);
}

/** Reads a message of only scalar fields into a map by field number (for the special types). */
function readFlat(bytes: Uint8Array, types: Record<number, string>): Map<number, unknown> {
  const out = new Map<number, unknown>();
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    const t = types[field];
    if (!t) {
      r.skip(wire);
      continue;
    }
    if (wire !== wireOf(t)) throw wrongWire(wire, String(field));
    out.set(field, t === 'bytes' ? r.bytes() : readScalar(r, t));
  }
  return out;
}

// ---- encoding ----

/** Encodes a JSON value as a message of `type`. */
export function encodeMessage(type: string, value: unknown): Uint8Array {
  const w = new ProtoWriter();
  writeMessage(w, type, value, 0);
  return w.finish();
}

function writeMessage(w: ProtoWriter, type: string, value: unknown, depth: number): void {
  if (depth > maxMessageDepth) throw new ProtoEncodeError(`${type}: nests too deeply`);
  const special = specials[type];
  if (special) {
    special.encode(w, value, depth);
    return;
  }
  const def = messages[type];
  if (!def) throw new ProtoEncodeError(`no message ${type}`);
  if (def.array) {
    if (!Array.isArray(value)) throw new ProtoEncodeError(`${type}: expected a list`);
    const f = def.fields[0]!;
    for (const item of value) writeField(w, f, item, depth);
    return;
  }
  if (!isObject(value)) throw new ProtoEncodeError(`${type}: expected an object`);
  for (const f of def.fields) {
    const [, name, , flags] = f;
    if (flags.includes('i')) {
      writeField(w, f, value, depth);
      continue;
    }
    if (!has(value, name)) continue;
    const v = value[name];
    if (v === null || v === undefined) continue;
    if (flags.includes('m')) {
      if (!isObject(v)) throw new ProtoEncodeError(`${type}.${name}: expected an object`);
      for (const [k, item] of Object.entries(v)) {
        const entry = new ProtoWriter();
        entry.bytesField(1, Buffer.from(k, 'utf8'));
        if (item !== null && item !== undefined) writeField(entry, [2, name, f[2], ''], item, depth);
        w.bytesField(f[0], entry.finish());
      }
    } else if (flags.includes('r')) {
      if (!Array.isArray(v)) throw new ProtoEncodeError(`${type}.${name}: expected a list`);
      // A null element is its type's zero value, as Go's JSON decoder reads it (raw JSON keeps its null).
      const zero = isScalar(f[2]) ? zeroOf(f[2]) : specials[f[2]] ? null : {};
      for (const item of v) writeField(w, f, item ?? zero, depth);
    } else {
      writeField(w, f, v, depth);
    }
  }
}

function writeField(w: ProtoWriter, f: FieldDef, v: unknown, depth: number): void {
  const [num, name, type] = f;
  if (!isScalar(type)) {
    const inner = new ProtoWriter();
    writeMessage(inner, type, v, depth + 1);
    w.bytesField(num, inner.finish());
    return;
  }
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new ProtoEncodeError(`${name}: expected a string`);
      w.bytesField(num, Buffer.from(v, 'utf8'));
      return;
    case 'bytes':
      if (typeof v !== 'string') throw new ProtoEncodeError(`${name}: expected base64 data`);
      w.bytesField(num, Buffer.from(v, 'base64'));
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtoEncodeError(`${name}: expected a boolean`);
      w.tag(num, WIRE_VARINT);
      w.varint(v ? 1 : 0);
      return;
    case 'int32':
    case 'int64':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtoEncodeError(`${name}: expected an integer`);
      w.tag(num, WIRE_VARINT);
      w.varint(BigInt(v));
      return;
    case 'double':
      if (typeof v !== 'number') throw new ProtoEncodeError(`${name}: expected a number`);
      w.tag(num, WIRE_FIXED64);
      w.double(v);
      return;
    default:
      throw new ProtoEncodeError(`${name}: unsupported scalar type ${type}`);
  }
}

function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- special types ----

interface Special {
  decode(bytes: Uint8Array, depth: number): unknown;
  encode(w: ProtoWriter, value: unknown, depth: number): void;
}

/** Go's Time and MicroTime marshal a zero time as no bytes at all, and JSON as null. */
function decodeTimestamp(bytes: Uint8Array, micro: boolean): string | undefined {
  if (bytes.length === 0) return undefined;
  const t = readFlat(bytes, { 1: 'int64', 2: 'int32' });
  const seconds = BigInt((t.get(1) as number | undefined) ?? 0);
  // metav1.Time drops the nanoseconds on decode (its JSON has none); MicroTime keeps microseconds.
  const nanos = micro ? BigInt((t.get(2) as number | undefined) ?? 0) : 0n;
  const micros = seconds * 1_000_000n + nanos / 1000n;
  let ms = micros / 1000n;
  let frac = micros % 1000n;
  if (frac < 0n) {
    frac += 1000n;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) {
    throw new ProtoDecodeError('Time.MarshalJSON: year outside of range [0,9999]');
  }
  const iso = d.toISOString();
  return micro ? `${iso.slice(0, 23)}${String(frac).padStart(3, '0')}Z` : `${iso.slice(0, 19)}Z`;
}

const rfc3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

function encodeTimestamp(w: ProtoWriter, value: unknown): void {
  const m = typeof value === 'string' ? rfc3339.exec(value) : null;
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new ProtoEncodeError(`expected an RFC 3339 time, got ${JSON.stringify(value)}`);
  w.tag(1, WIRE_VARINT);
  w.varint(BigInt(ms / 1000));
  w.tag(2, WIRE_VARINT);
  w.varint(Number((m[2] ?? '').padEnd(9, '0')));
}

/** A message whose JSON is its raw bytes, themselves JSON (FieldsV1, apiextensions JSON, RawExtension). */
function rawJSON(field: number): Special {
  return {
    decode(bytes) {
      const raw = readFlat(bytes, { [field]: 'bytes' }).get(field) as Uint8Array | undefined;
      if (!raw || raw.length === 0) return undefined;
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
      } catch {
        throw new ProtoDecodeError('proto: embedded raw value is not JSON');
      }
    },
    encode(w, value) {
      w.bytesField(field, Buffer.from(JSON.stringify(value), 'utf8'));
    },
  };
}

const schemaProps = 'apiextensions.v1.JSONSchemaProps';

/** Splits a message into its raw fields by number (the last occurrence of a singular one wins). */
function rawFields(bytes: Uint8Array): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_BYTES) {
      r.skip(wire);
      continue;
    }
    const list = out.get(field) ?? [];
    list.push(r.bytes());
    out.set(field, list);
  }
  return out;
}

const specials: Record<string, Special> = {
  'meta.v1.Time': {
    decode: (b) => decodeTimestamp(b, false),
    encode: (w, v) => encodeTimestamp(w, v),
  },
  'meta.v1.MicroTime': {
    decode: (b) => decodeTimestamp(b, true),
    encode: (w, v) => encodeTimestamp(w, v),
  },
  'meta.v1.FieldsV1': rawJSON(1),
  'runtime.RawExtension': rawJSON(1),
  'apiextensions.v1.JSON': rawJSON(1),
  'resource.Quantity': {
    // Quantity's JSON is its canonical string; an empty message is the zero quantity.
    decode: (b) => (readFlat(b, { 1: 'string' }).get(1) as string | undefined) ?? '0',
    encode(w, v) {
      const s = typeof v === 'number' ? String(v) : v;
      if (typeof s !== 'string') throw new ProtoEncodeError('expected a quantity');
      w.bytesField(1, Buffer.from(s, 'utf8'));
    },
  },
  'intstr.IntOrString': {
    decode(b) {
      const t = readFlat(b, { 1: 'int64', 2: 'int32', 3: 'string' });
      return t.get(1) === 1 ? ((t.get(3) as string | undefined) ?? '') : ((t.get(2) as number | undefined) ?? 0);
    },
    encode(w, v) {
      const isString = typeof v === 'string';
      if (!isString && (typeof v !== 'number' || !Number.isInteger(v))) throw new ProtoEncodeError('expected an int or a string');
      w.tag(1, WIRE_VARINT);
      w.varint(isString ? 1 : 0);
      w.tag(2, WIRE_VARINT);
      w.varint(isString ? 0 : BigInt(v));
      w.bytesField(3, Buffer.from(isString ? v : '', 'utf8'));
    },
  },
  // JSONSchemaPropsOrArray: a schema, or a list of schemas when there are any.
  'apiextensions.v1.JSONSchemaPropsOrArray': {
    decode(b, depth) {
      const f = rawFields(b);
      const list = f.get(2);
      if (list && list.length > 0) return list.map((x) => decodeMessage(schemaProps, x, depth + 1));
      const one = f.get(1)?.at(-1);
      return one ? decodeMessage(schemaProps, one, depth + 1) : undefined;
    },
    encode(w, v, depth) {
      if (Array.isArray(v)) for (const s of v) w.bytesField(2, encodeNested(schemaProps, s, depth));
      else w.bytesField(1, encodeNested(schemaProps, v, depth));
    },
  },
  // JSONSchemaPropsOrBool: a schema (which allows), else the boolean.
  'apiextensions.v1.JSONSchemaPropsOrBool': {
    decode(b, depth) {
      const schema = rawFields(b).get(2)?.at(-1);
      if (schema) return decodeMessage(schemaProps, schema, depth + 1);
      return readFlat(b, { 1: 'bool' }).get(1) === true;
    },
    encode(w, v, depth) {
      w.tag(1, WIRE_VARINT);
      w.varint(v === false ? 0 : 1);
      if (typeof v !== 'boolean') w.bytesField(2, encodeNested(schemaProps, v, depth));
    },
  },
  // JSONSchemaPropsOrStringArray: a list of property names, else a schema.
  'apiextensions.v1.JSONSchemaPropsOrStringArray': {
    decode(b, depth) {
      const f = rawFields(b);
      const names = f.get(2);
      if (names && names.length > 0) return names.map((x) => Buffer.from(x).toString('utf8'));
      const schema = f.get(1)?.at(-1);
      return schema ? decodeMessage(schemaProps, schema, depth + 1) : undefined;
    },
    encode(w, v, depth) {
      if (Array.isArray(v)) {
        for (const s of v) {
          if (typeof s !== 'string') throw new ProtoEncodeError('expected a list of strings');
          w.bytesField(2, Buffer.from(s, 'utf8'));
        }
      } else {
        w.bytesField(1, encodeNested(schemaProps, v, depth));
      }
    },
  },
};

function encodeNested(type: string, value: unknown, depth: number): Uint8Array {
  const w = new ProtoWriter();
  writeMessage(w, type, value, depth + 1);
  return w.finish();
}
