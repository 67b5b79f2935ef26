// Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`). kubectl sends one in
// practice: `kubectl create namespace` (typed clientset, no JSON fallback). So we decode the
// envelope for any kind, and the Namespace message fully; other kinds are refused with 415 so the
// client can tell the format, not the object, is the problem.
//
// Envelope: the 4 magic bytes "k8s\0", then a runtime.Unknown message:
//   1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own message), 3 contentEncoding, 4 contentType.
// Field numbers are those of k8s.io/api's generated.proto.

import { StatusError, badRequest } from '../../util/status.ts';

const magic = [0x6b, 0x38, 0x73, 0x00];

export class ProtoReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  done(): boolean {
    return this.#pos >= this.#end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.#pos >= this.#end) throw malformed('truncated varint');
      const b = this.#buf[this.#pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw malformed('varint too long');
    }
  }

  /** Next field: its number and wire type. */
  tag(): { field: number; wire: number } {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (len < 0 || this.#pos + len > this.#end) throw malformed('length exceeds message');
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.#pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.#pos += 4;
        break;
      default:
        throw malformed(`unsupported wire type ${wire}`);
    }
    if (this.#pos > this.#end) throw malformed('truncated field');
  }
}

function malformed(why: string): StatusError {
  return badRequest(`unable to decode protobuf body: ${why}`);
}

export interface ProtoEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
}

/** Splits the `k8s\0` envelope. Throws 400 when the bytes are not one. */
export function decodeEnvelope(body: Uint8Array): ProtoEnvelope {
  if (body.length < 4 || magic.some((b, i) => body[i] !== b)) throw malformed('missing "k8s\\x00" prefix');
  const r = new ProtoReader(body, 4);
  const env: ProtoEnvelope = { apiVersion: '', kind: '', raw: new Uint8Array() };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const tm = new ProtoReader(r.bytes());
      while (!tm.done()) {
        const t = tm.tag();
        if (t.field === 1 && t.wire === 2) env.apiVersion = tm.string();
        else if (t.field === 2 && t.wire === 2) env.kind = tm.string();
        else tm.skip(t.wire);
      }
    } else if (field === 2 && wire === 2) {
      env.raw = r.bytes();
    } else if ((field === 3 || field === 4) && wire === 2) {
      const v = r.string();
      if (field === 3 && v !== '') throw malformed(`unsupported contentEncoding ${JSON.stringify(v)}`);
    } else {
      r.skip(wire);
    }
  }
  return env;
}

type Decoder = (raw: Uint8Array) => Record<string, unknown>;

// Decoders by "<apiVersion>/<kind>". Add a kind here when some client sends it as protobuf.
// (kubectl's typed clientset sends these for `create namespace|configmap|secret|serviceaccount`.)
const decoders: Record<string, Decoder> = {
  'v1/Namespace': decodeNamespace,
  'v1/ConfigMap': decodeConfigMap,
  'v1/Secret': decodeSecret,
  'v1/ServiceAccount': decodeServiceAccount,
  'scheduling.k8s.io/v1/PriorityClass': decodePriorityClass,
  // `kubectl auth whoami`.
  'authentication.k8s.io/v1/SelfSubjectReview': decodeMetadataOnly,
};

/** Decodes a protobuf request body into the JSON shape of the object. */
export function decodeProtobuf(body: Uint8Array): Record<string, unknown> {
  const env = decodeEnvelope(body);
  const decode = decoders[`${env.apiVersion}/${env.kind}`];
  if (!decode) {
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - protobuf is accepted only for v1 Namespace, ConfigMap, Secret, ServiceAccount, scheduling.k8s.io/v1 PriorityClass and authentication.k8s.io/v1 SelfSubjectReview; send ${env.kind || 'this object'} (${env.apiVersion || 'unknown version'}) as application/json or application/yaml`,
    );
  }
  return { kind: env.kind, apiVersion: env.apiVersion, ...decode(env.raw) };
}

function decodeNamespace(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire !== 2) {
      r.skip(wire);
      continue;
    }
    if (field === 1) out.metadata = decodeObjectMeta(r.bytes());
    else if (field === 2) out.spec = decodeStrings(r.bytes(), 'finalizers');
    else if (field === 3) out.status = decodeNamespaceStatus(r.bytes());
    else r.skip(wire);
  }
  return out;
}

/** ConfigMap {1 metadata, 2 data map<string,string>, 3 binaryData map<string,bytes>, 4 immutable}. */
function decodeConfigMap(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const data: Record<string, string> = {};
  const binary: Record<string, string> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.metadata = decodeObjectMeta(r.bytes());
    else if (field === 2 && wire === 2) setEntry(data, decodeMapEntry(r.bytes()));
    else if (field === 3 && wire === 2) setEntry(binary, decodeBytesMapEntry(r.bytes()));
    else if (field === 4 && wire === 0) out.immutable = r.varint() !== 0n;
    else r.skip(wire);
  }
  if (Object.keys(data).length > 0) out.data = data;
  if (Object.keys(binary).length > 0) out.binaryData = binary;
  return out;
}

/** Secret {1 metadata, 2 data map<string,bytes>, 3 type, 4 stringData map<string,string>, 5 immutable}. */
function decodeSecret(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const data: Record<string, string> = {};
  const stringData: Record<string, string> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.metadata = decodeObjectMeta(r.bytes());
    else if (field === 2 && wire === 2) setEntry(data, decodeBytesMapEntry(r.bytes()));
    else if (field === 3 && wire === 2) {
      const t = r.string();
      if (t) out.type = t;
    } else if (field === 4 && wire === 2) setEntry(stringData, decodeMapEntry(r.bytes()));
    else if (field === 5 && wire === 0) out.immutable = r.varint() !== 0n;
    else r.skip(wire);
  }
  if (Object.keys(data).length > 0) out.data = data;
  if (Object.keys(stringData).length > 0) out.stringData = stringData;
  return out;
}

/** ServiceAccount {1 metadata, 2 secrets []ObjectReference, 3 imagePullSecrets []LocalObjectReference, 4 automountServiceAccountToken}. */
function decodeServiceAccount(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const secrets: Record<string, unknown>[] = [];
  const pullSecrets: Record<string, unknown>[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.metadata = decodeObjectMeta(r.bytes());
    else if (field === 2 && wire === 2) secrets.push(decodeMessage(r.bytes(), { 1: 'kind', 2: 'namespace', 3: 'name', 4: 'uid', 5: 'apiVersion', 6: 'resourceVersion', 7: 'fieldPath' }));
    else if (field === 3 && wire === 2) pullSecrets.push(decodeMessage(r.bytes(), { 1: 'name' }));
    else if (field === 4 && wire === 0) out.automountServiceAccountToken = r.varint() !== 0n;
    else r.skip(wire);
  }
  if (secrets.length > 0) out.secrets = secrets;
  if (pullSecrets.length > 0) out.imagePullSecrets = pullSecrets;
  return out;
}

/** A message of which only {1 metadata} matters here (a review's status is the server's to fill in). */
function decodeMetadataOnly(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.metadata = decodeObjectMeta(r.bytes());
    else r.skip(wire);
  }
  return out;
}

/** PriorityClass {1 metadata, 2 value int32, 3 globalDefault, 4 description, 5 preemptionPolicy} (`kubectl create priorityclass`). */
function decodePriorityClass(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = { value: 0 };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.metadata = decodeObjectMeta(r.bytes());
    // int32 travels as a varint sign-extended to 64 bits.
    else if (field === 2 && wire === 0) out.value = Number(BigInt.asIntN(32, r.varint()));
    else if (field === 3 && wire === 0) {
      if (r.varint() !== 0n) out.globalDefault = true;
    } else if (field === 4 && wire === 2) {
      const d = r.string();
      if (d) out.description = d;
    } else if (field === 5 && wire === 2) {
      const p = r.string();
      if (p) out.preemptionPolicy = p;
    } else r.skip(wire);
  }
  return out;
}

function setEntry(map: Record<string, string>, [k, v]: [string, string]): void {
  Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A map<string,bytes> entry; the bytes come out base64-encoded, as JSON carries []byte. */
function decodeBytesMapEntry(raw: Uint8Array): [string, string] {
  const r = new ProtoReader(raw);
  let k = '';
  let v: Uint8Array = new Uint8Array(0);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) k = r.string();
    else if (field === 2 && wire === 2) v = r.bytes();
    else r.skip(wire);
  }
  return [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')];
}

function decodeStrings(raw: Uint8Array, name: string): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const list: string[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) list.push(r.string());
    else r.skip(wire);
  }
  return list.length > 0 ? { [name]: list } : {};
}

function decodeNamespaceStatus(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const conditions: Record<string, unknown>[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) {
      const phase = r.string();
      if (phase) out.phase = phase;
    } else if (field === 2 && wire === 2) {
      conditions.push(decodeMessage(r.bytes(), { 1: 'type', 2: 'status', 5: 'reason', 6: 'message' }, { 4: 'lastTransitionTime' }));
    } else {
      r.skip(wire);
    }
  }
  if (conditions.length > 0) out.conditions = conditions;
  return out;
}

/** A message of string fields and Time fields, omitting empty ones as the JSON encoding does. */
function decodeMessage(raw: Uint8Array, strings: Record<number, string>, times: Record<number, string> = {}): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === 2 && strings[field]) {
      const v = r.string();
      if (v) out[strings[field]] = v;
    } else if (wire === 2 && times[field]) {
      const t = decodeTime(r.bytes());
      if (t) out[times[field]] = t;
    } else {
      r.skip(wire);
    }
  }
  return out;
}

function decodeObjectMeta(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const strings: Record<number, string> = { 1: 'name', 2: 'generateName', 3: 'namespace', 4: 'selfLink', 5: 'uid', 6: 'resourceVersion' };
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  const owners: Record<string, unknown>[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === 2 && strings[field]) {
      const v = r.string();
      if (v) out[strings[field]] = v;
    } else if (field === 7 && wire === 0) {
      const g = r.varint();
      if (g !== 0n) out.generation = Number(BigInt.asIntN(64, g));
    } else if ((field === 8 || field === 9) && wire === 2) {
      const t = decodeTime(r.bytes());
      if (t) out[field === 8 ? 'creationTimestamp' : 'deletionTimestamp'] = t;
    } else if (field === 10 && wire === 0) {
      out.deletionGracePeriodSeconds = Number(BigInt.asIntN(64, r.varint()));
    } else if ((field === 11 || field === 12) && wire === 2) {
      const [k, v] = decodeMapEntry(r.bytes());
      (field === 11 ? labels : annotations)[k] = v;
    } else if (field === 13 && wire === 2) {
      owners.push(decodeOwnerReference(r.bytes()));
    } else if (field === 14 && wire === 2) {
      finalizers.push(r.string());
    } else {
      r.skip(wire);
    }
  }
  if (Object.keys(labels).length > 0) out.labels = labels;
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  if (owners.length > 0) out.ownerReferences = owners;
  if (finalizers.length > 0) out.finalizers = finalizers;
  return out;
}

function decodeOwnerReference(raw: Uint8Array): Record<string, unknown> {
  const r = new ProtoReader(raw);
  const out: Record<string, unknown> = {};
  const strings: Record<number, string> = { 1: 'kind', 3: 'name', 4: 'uid', 5: 'apiVersion' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === 2 && strings[field]) out[strings[field]] = r.string();
    else if ((field === 6 || field === 7) && wire === 0) out[field === 6 ? 'controller' : 'blockOwnerDeletion'] = r.varint() !== 0n;
    else r.skip(wire);
  }
  return out;
}

function decodeMapEntry(raw: Uint8Array): [string, string] {
  const r = new ProtoReader(raw);
  let k = '';
  let v = '';
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) k = r.string();
    else if (field === 2 && wire === 2) v = r.string();
    else r.skip(wire);
  }
  return [k, v];
}

/** metav1.Time {1 seconds, 2 nanos} → RFC 3339 (second precision, as the API writes it); empty → undefined. */
function decodeTime(raw: Uint8Array): string | undefined {
  const r = new ProtoReader(raw);
  let seconds = 0n;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) seconds = BigInt.asIntN(64, r.varint());
    else r.skip(wire);
  }
  if (seconds === 0n) return undefined;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
