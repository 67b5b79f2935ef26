// Kubernetes' protobuf media type (`application/vnd.kubernetes.protobuf`): the 4 magic bytes
// "k8s\0", then a runtime.Unknown {1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own
// message), 3 contentEncoding, 4 contentType}. The object's message is found from apiVersion and
// kind in the generated roots table.
//
// Called by request body decoding and response writing; pure and safe to call concurrently.

import { decodeMessage, encodeMessage } from './codec.ts';
import { roots } from './schema.generated.ts';
import { ProtoDecodeError, ProtoReader, ProtoWriter, WIRE_BYTES } from './wire.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const magic = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export interface ProtoEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
}

/** Splits the `k8s\0` envelope; throws ProtoDecodeError when the bytes are not one. */
export function decodeEnvelope(body: Uint8Array): ProtoEnvelope {
  if (body.length < 4 || magic.some((b, i) => body[i] !== b)) {
    // The words of apimachinery's protobuf serializer.
    throw new ProtoDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const r = new ProtoReader(body, 4);
  const env: ProtoEnvelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field >= 1 && field <= 4 && wire !== WIRE_BYTES) throw new ProtoDecodeError(`proto: wrong wireType = ${wire} for field ${['TypeMeta', 'Raw', 'ContentEncoding', 'ContentType'][field - 1]}`);
    if (field === 1) {
      const tm = new ProtoReader(r.bytes());
      while (!tm.done()) {
        const t = tm.tag();
        if ((t.field === 1 || t.field === 2) && t.wire !== WIRE_BYTES) throw new ProtoDecodeError(`proto: wrong wireType = ${t.wire} for field ${t.field === 1 ? 'APIVersion' : 'Kind'}`);
        if (t.field === 1) env.apiVersion = Buffer.from(tm.bytes()).toString('utf8');
        else if (t.field === 2) env.kind = Buffer.from(tm.bytes()).toString('utf8');
        else tm.skip(t.wire);
      }
    } else if (field === 2) {
      env.raw = r.bytes();
    } else if (field === 3) {
      env.contentEncoding = Buffer.from(r.bytes()).toString('utf8');
    } else {
      r.skip(wire);
    }
  }
  return env;
}

/** The message name of an apiVersion and kind, when its protobuf form is known. */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(roots, `${apiVersion}/${kind}`) ? roots[`${apiVersion}/${kind}`] : undefined;
}

export type DecodedProtobuf = { ok: true; object: Record<string, unknown> } | { ok: false; apiVersion: string; kind: string };

/**
 * Decodes a protobuf body into the JSON object (with its apiVersion and kind). A kind with no known
 * message is a value, so the caller can answer as it would for an unsupported media type.
 * Malformed bytes throw ProtoDecodeError.
 */
export function decodeProtobufObject(body: Uint8Array): DecodedProtobuf {
  const env = decodeEnvelope(body);
  if (env.contentEncoding !== '') throw new ProtoDecodeError(`unsupported contentEncoding ${JSON.stringify(env.contentEncoding)}`);
  const type = messageFor(env.apiVersion, env.kind);
  if (!type) return { ok: false, apiVersion: env.apiVersion, kind: env.kind };
  const decoded = decodeMessage(type, env.raw) as Record<string, unknown>;
  return { ok: true, object: { kind: env.kind, apiVersion: env.apiVersion, ...decoded } };
}

/**
 * Encodes an object (with apiVersion and kind) in the envelope, or undefined when its kind has no
 * known message. Throws ProtoEncodeError when the object does not fit its message.
 */
export function encodeProtobufObject(object: Record<string, unknown>): Uint8Array | undefined {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const type = messageFor(apiVersion, kind);
  if (!type) return undefined;
  const raw = encodeMessage(type, object);
  const tm = new ProtoWriter();
  tm.bytesField(1, Buffer.from(apiVersion, 'utf8'));
  tm.bytesField(2, Buffer.from(kind, 'utf8'));
  const w = new ProtoWriter();
  w.raw(magic);
  w.bytesField(1, tm.finish());
  w.bytesField(2, raw);
  w.bytesField(3, new Uint8Array(0));
  w.bytesField(4, new Uint8Array(0));
  return w.finish();
}

/** The Content-Type of a protobuf watch stream. */
export const PROTOBUF_WATCH_MEDIA_TYPE = `${PROTOBUF_MEDIA_TYPE};stream=watch`;

/**
 * One event of a protobuf watch stream, as kube-apiserver frames it: a 4-byte big-endian length,
 * then a meta.v1.WatchEvent message with no envelope of its own (apimachinery's RawSerializer)
 * whose object is the event's object in the full `k8s\0` envelope. Undefined when the object's kind
 * has no protobuf form; throws ProtoEncodeError when the object does not fit its message.
 */
export function encodeWatchFrame(type: string, object: Record<string, unknown>): Uint8Array | undefined {
  const inner = encodeProtobufObject(object);
  if (!inner) return undefined;
  const raw = new ProtoWriter();
  raw.bytesField(1, inner);
  const ev = new ProtoWriter();
  ev.bytesField(1, Buffer.from(type, 'utf8'));
  ev.bytesField(2, raw.finish());
  const body = ev.finish();
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, false);
  frame.set(body, 4);
  return frame;
}

/** Reads the frames of a protobuf watch stream back (for tests and clients of our own). */
export function decodeWatchFrames(stream: Uint8Array): { type: string; object: Record<string, unknown> }[] {
  const out: { type: string; object: Record<string, unknown> }[] = [];
  let pos = 0;
  while (pos < stream.length) {
    if (pos + 4 > stream.length) throw new ProtoDecodeError('unexpected EOF');
    const len = new DataView(stream.buffer, stream.byteOffset + pos, 4).getUint32(0, false);
    if (pos + 4 + len > stream.length) throw new ProtoDecodeError('unexpected EOF');
    const r = new ProtoReader(stream, pos + 4, pos + 4 + len);
    pos += 4 + len;
    let type = '';
    let raw: Uint8Array = new Uint8Array(0);
    while (!r.done()) {
      const { field, wire } = r.tag();
      if (field === 1 && wire === WIRE_BYTES) type = Buffer.from(r.bytes()).toString('utf8');
      else if (field === 2 && wire === WIRE_BYTES) {
        const ext = new ProtoReader(r.bytes());
        while (!ext.done()) {
          const t = ext.tag();
          if (t.field === 1 && t.wire === WIRE_BYTES) raw = ext.bytes();
          else ext.skip(t.wire);
        }
      } else r.skip(wire);
    }
    const decoded = decodeProtobufObject(raw);
    if (!decoded.ok) throw new ProtoDecodeError(`watch event of unknown kind ${decoded.apiVersion}/${decoded.kind}`);
    out.push({ type, object: decoded.object });
  }
  return out;
}
