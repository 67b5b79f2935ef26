import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeMessage, encodeMessage, maxMessageDepth } from './codec.ts';
import { decodeProtobufObject, decodeWatchFrames, encodeProtobufObject, encodeWatchFrame } from './envelope.ts';
import { messages, roots } from './schema.generated.ts';
import { kindFixtures } from './testing.ts';
import { ProtoDecodeError } from './wire.ts';

function roundTrip(object: Record<string, unknown>): Record<string, unknown> {
  const bytes = encodeProtobufObject(object);
  assert.ok(bytes, `${String(object.kind)} has a protobuf form`);
  const decoded = decodeProtobufObject(bytes);
  assert.ok(decoded.ok);
  return decoded.object;
}

/** Every value of `want` is in `got` (null: absent, as Go writes null for an empty Time). */
function assertContains(got: unknown, want: unknown, path: string): void {
  if (want === null) {
    assert.ok(got === undefined || got === null, `${path}: expected absent, got ${JSON.stringify(got)}`);
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: expected a list`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => assertContains(got[i], w, `${path}[${i}]`));
    return;
  }
  if (typeof want === 'object') {
    assert.ok(typeof got === 'object' && got !== null && !Array.isArray(got), `${path}: expected an object, got ${JSON.stringify(got)}`);
    for (const [k, w] of Object.entries(want)) assertContains((got as Record<string, unknown>)[k], w, `${path}.${k}`);
    return;
  }
  assert.deepEqual(got, want, path);
}

describe('protobuf codec: round trips of every kind', () => {
  for (const [kind, object] of Object.entries(kindFixtures)) {
    it(`${kind}: JSON → protobuf → JSON keeps every field, and a second trip changes nothing`, () => {
      const once = roundTrip(object);
      assertContains(once, object, kind);
      assert.deepEqual(roundTrip(once), once);
    });
  }

  it('every served kind and subresource body has a fixture', () => {
    const kinds = new Set(Object.keys(roots).map((k) => k.slice(k.lastIndexOf('/') + 1)));
    for (const k of ['Pod', 'Namespace', 'Node', 'Event', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'PersistentVolume', 'StorageClass', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Lease', 'PriorityClass', 'CustomResourceDefinition', 'SelfSubjectReview', 'TokenReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'Binding', 'Eviction', 'Scale', 'DeleteOptions', 'Status']) {
      assert.ok(kinds.has(k), `${k} is a root`);
      assert.ok(kindFixtures[k], `${k} has a fixture`);
    }
  });

  it('writes what Go writes for values that were not on the wire or are zero', () => {
    const pod = roundTrip({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], securityContext: { runAsUser: 0 } }], hostNetwork: false } });
    assert.deepEqual(pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      // Struct values are always written; zero scalars with omitempty are not; pointers are kept even when zero.
      spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: {}, securityContext: { runAsUser: 0 } }] },
      status: {},
    });
    // A field without omitempty is written even when absent (NodeDaemonEndpoints' Port, PriorityClass' value).
    assert.deepEqual(roundTrip({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'x' } }), { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'x' }, value: 0 });
  });

  it('keeps a map key named __proto__ as a key', () => {
    const cm = roundTrip({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: JSON.parse('{"__proto__":"v"}') as Record<string, string> });
    assert.deepEqual(Object.keys(cm.data as object), ['__proto__']);
  });

  const times: [string, string, string][] = [
    ['Time drops fractions', 'meta.v1.Time', '2024-05-06T07:08:09Z'],
    ['MicroTime keeps microseconds', 'meta.v1.MicroTime', '2024-05-06T07:08:09.123456Z'],
    ['MicroTime before 1970', 'meta.v1.MicroTime', '1969-12-31T23:59:59.999999Z'],
  ];
  for (const [name, type, value] of times) {
    it(name, () => {
      assert.equal(decodeMessage(type, encodeMessage(type, value)), value);
    });
  }

  it('reads an empty Time as absent and a Time of 0 seconds as 1970', () => {
    assert.equal(decodeMessage('meta.v1.Time', new Uint8Array(0)), undefined);
    assert.equal(decodeMessage('meta.v1.Time', Uint8Array.of(0x08, 0x00)), '1970-01-01T00:00:00Z');
  });
});

// An independent encoder: protobufjs, from message definitions written here after Kubernetes'
// generated.proto (core/v1, coordination/v1, meta/v1, resource, intstr, runtime).
const k8sProto = `
syntax = "proto2";
package t;
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message Quantity { optional string string = 1; }
message IntOrString { optional int64 type = 1; optional int32 intVal = 2; optional string strVal = 3; }
message OwnerReference { optional string apiVersion = 5; optional string kind = 1; optional string name = 3; optional string uid = 4; optional bool controller = 6; }
message ObjectMeta {
  optional string name = 1; optional string generateName = 2; optional string namespace = 3; optional string uid = 5;
  optional int64 generation = 7; optional Time creationTimestamp = 8; optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11; map<string, string> annotations = 12; repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
message Pod { optional ObjectMeta metadata = 1; optional PodSpec spec = 2; optional PodStatus status = 3; }
message PodSpec {
  repeated Volume volumes = 1; repeated Container containers = 2; optional string restartPolicy = 3; optional int64 terminationGracePeriodSeconds = 4;
  map<string, string> nodeSelector = 7; optional PodSecurityContext securityContext = 14; optional bool automountServiceAccountToken = 21; optional int32 priority = 25;
}
message PodSecurityContext { optional int64 runAsUser = 2; repeated int64 supplementalGroups = 4; }
message PodStatus { optional string phase = 1; }
message Volume { optional string name = 1; optional VolumeSource volumeSource = 2; }
message VolumeSource { optional EmptyDirVolumeSource emptyDir = 2; optional ConfigMapVolumeSource configMap = 19; }
message EmptyDirVolumeSource { optional string medium = 1; optional Quantity sizeLimit = 2; }
message LocalObjectReference { optional string name = 1; }
message ConfigMapVolumeSource { optional LocalObjectReference localObjectReference = 1; optional int32 defaultMode = 3; }
message Container {
  optional string name = 1; optional string image = 2; repeated string command = 3; repeated ContainerPort ports = 6;
  optional ResourceRequirements resources = 8; optional Probe livenessProbe = 10;
}
message ContainerPort { optional string name = 1; optional int32 hostPort = 2; optional int32 containerPort = 3; optional string protocol = 4; }
message ResourceRequirements { map<string, Quantity> limits = 1; map<string, Quantity> requests = 2; }
message Probe { optional ProbeHandler handler = 1; optional int32 initialDelaySeconds = 2; }
message ProbeHandler { optional HTTPGetAction httpGet = 2; }
message HTTPGetAction { optional string path = 1; optional IntOrString port = 2; }
message Secret { optional ObjectMeta metadata = 1; map<string, bytes> data = 2; optional string type = 3; optional bool immutable = 5; }
message MicroTime { optional int64 seconds = 1; optional int32 nanos = 2; }
message Lease { optional ObjectMeta metadata = 1; optional LeaseSpec spec = 2; }
message LeaseSpec { optional string holderIdentity = 1; optional int32 leaseDurationSeconds = 2; optional MicroTime acquireTime = 3; optional MicroTime renewTime = 4; optional int32 leaseTransitions = 5; }
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
`;
const pbRoot = protobuf.parse(k8sProto).root;

function pbEnvelope(apiVersion: string, kind: string, type: string, value: Record<string, unknown>): Uint8Array {
  const t = pbRoot.lookupType(type);
  const raw = t.encode(t.fromObject(value)).finish();
  const unknown = pbRoot.lookupType('t.Unknown');
  const env = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...env]);
}

describe('protobuf codec: bodies made by protobufjs', () => {
  it('decodes a Pod', () => {
    const body = pbEnvelope('v1', 'Pod', 't.Pod', {
      metadata: { name: 'web-copy', namespace: 'default', labels: { app: 'web' }, creationTimestamp: {}, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u', controller: false }] },
      spec: {
        volumes: [{ name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'cm' }, defaultMode: 420 } } }, { name: 'tmp', volumeSource: { emptyDir: { sizeLimit: { string: '1Gi' } } } }],
        containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'], ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { limits: { cpu: { string: '250m' } } }, livenessProbe: { handler: { httpGet: { path: '/', port: { type: 1, strVal: 'http' } } }, initialDelaySeconds: 5 } }],
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        nodeSelector: { disk: 'ssd' },
        securityContext: { runAsUser: 0, supplementalGroups: [1000, 2000] },
        automountServiceAccountToken: false,
        priority: -1,
      },
      status: {},
    });
    assert.deepEqual(decodeProtobufObject(body), {
      ok: true,
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-copy', namespace: 'default', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u', controller: false }] },
        spec: {
          volumes: [{ name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } }, { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
          containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'], ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { limits: { cpu: '250m' } }, livenessProbe: { httpGet: { path: '/', port: 'http' }, initialDelaySeconds: 5 } }],
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 0,
          nodeSelector: { disk: 'ssd' },
          securityContext: { runAsUser: 0, supplementalGroups: [1000, 2000] },
          automountServiceAccountToken: false,
          priority: -1,
        },
        status: {},
      },
    });
  });

  it('decodes a Secret (bytes as base64) and a Lease (MicroTime)', () => {
    const secret = decodeProtobufObject(pbEnvelope('v1', 'Secret', 't.Secret', { metadata: { name: 's' }, data: { k: Buffer.from('v1\u0000') }, type: 'Opaque', immutable: true }));
    assert.deepEqual(secret, { ok: true, object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'djEA' }, type: 'Opaque', immutable: true } });
    const lease = decodeProtobufObject(pbEnvelope('coordination.k8s.io/v1', 'Lease', 't.Lease', { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: { seconds: 1714979289, nanos: 123456789 } } }));
    assert.deepEqual(lease, { ok: true, object: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2024-05-06T07:08:09.123456Z' } } });
  });

  it('writes a Pod protobufjs reads back', () => {
    const bytes = encodeProtobufObject(kindFixtures.Pod!);
    assert.ok(bytes);
    const env = pbRoot.lookupType('t.Unknown').decode(bytes.subarray(4)) as unknown as { typeMeta: { apiVersion: string; kind: string }; raw: Uint8Array };
    assert.deepEqual({ ...env.typeMeta }, { apiVersion: 'v1', kind: 'Pod' });
    const pod = pbRoot.lookupType('t.Pod').toObject(pbRoot.lookupType('t.Pod').decode(env.raw), { longs: Number }) as {
      metadata: { name: string; creationTimestamp: { seconds: number }; generation: number };
      spec: { containers: { resources: { requests: Record<string, { string: string }> }; livenessProbe: { handler: { httpGet: { port: { type: number; strVal: string } } } } }[]; terminationGracePeriodSeconds: number; priority: number };
    };
    assert.equal(pod.metadata.name, 'web');
    assert.equal(pod.metadata.generation, 3);
    assert.equal(pod.metadata.creationTimestamp.seconds, Date.parse('2024-05-06T07:08:09Z') / 1000);
    assert.deepEqual(pod.spec.containers[0]!.resources.requests.memory, { string: '64Mi' });
    assert.deepEqual({ ...pod.spec.containers[0]!.livenessProbe.handler.httpGet.port }, { type: 1, intVal: 0, strVal: 'http' });
    assert.equal(pod.spec.terminationGracePeriodSeconds, 0);
    assert.equal(pod.spec.priority, -5);
  });
});

describe('protobuf codec: malformed bytes', () => {
  const bad: [string, string, Uint8Array][] = [
    ['a truncated varint', 'core.v1.Pod', Uint8Array.of(0x08, 0x80)],
    ['a length past the end', 'core.v1.Pod', Uint8Array.of(0x0a, 0x05, 0x00)],
    ['a 64-bit length', 'core.v1.Pod', Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)],
    ['a varint for metadata', 'core.v1.Pod', Uint8Array.of(0x08, 0x01)],
    ['a string where an int is', 'scheduling.v1.PriorityClass', Uint8Array.of(0x12, 0x01, 0x41)],
    ['wire type 7', 'core.v1.Pod', Uint8Array.of(0x0f)],
    ['field 0', 'core.v1.Pod', Uint8Array.of(0x02, 0x00)],
    ['FieldsV1 that is not JSON', 'meta.v1.FieldsV1', Uint8Array.of(0x0a, 0x01, 0x7b)],
    ['a year past 9999', 'meta.v1.Time', Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
  ];
  for (const [name, type, bytes] of bad) {
    it(`${name} is a ProtoDecodeError`, () => {
      assert.throws(() => decodeMessage(type, bytes), ProtoDecodeError);
    });
  }

  it('skips unknown fields of every wire type', () => {
    const body = Uint8Array.of(0xf8, 0x07, 0x01, 0xf9, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 0xfa, 0x07, 0x00, 0xfd, 0x07, 1, 2, 3, 4, 0x0a, 0x03, 0x0a, 0x01, 0x78);
    assert.deepEqual(decodeMessage('core.v1.ConfigMap', body), { metadata: { name: 'x' } });
  });

  it(`refuses messages nested deeper than ${maxMessageDepth}`, () => {
    // JSONSchemaProps.not (field 28) nests itself.
    let b = new Uint8Array(0);
    for (let i = 0; i < maxMessageDepth + 5; i++) {
      const len = [];
      let n = b.length;
      while (n > 0x7f) {
        len.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      len.push(n);
      b = Uint8Array.from([0xe2, 0x01, ...len, ...b]);
    }
    assert.throws(() => decodeMessage('apiextensions.v1.JSONSchemaProps', b), /nests too deeply/);
  });

  it('the table knows every message it names', () => {
    for (const [name, def] of Object.entries(messages)) {
      for (const [, field, type] of def.fields) if (type.includes('.')) assert.ok(messages[type], `${name}.${field}: ${type}`);
    }
    for (const type of Object.values(roots)) assert.ok(messages[type], type);
  });
});

describe('protobuf codec: JSON values Go reads leniently', () => {
  it('writes a null list element as its zero value, and keeps a null in raw JSON', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', args: [null, 'x'] }] } };
    const once = roundTrip(pod as Record<string, unknown>);
    assert.deepEqual((once.spec as { containers: { args: unknown[] }[] }).containers[0]!.args, ['', 'x']);
    const schema = { type: 'string', enum: ['a', null] };
    assert.deepEqual(decodeMessage('apiextensions.v1.JSONSchemaProps', encodeMessage('apiextensions.v1.JSONSchemaProps', schema)), schema);
  });
});

describe('protobuf watch frames', () => {
  it('are a big-endian length and a bare WatchEvent around the enveloped object, as protobufjs reads them', () => {
    const cm = kindFixtures.ConfigMap!;
    const frames = Buffer.concat([encodeWatchFrame('ADDED', cm)!, encodeWatchFrame('DELETED', cm)!]);
    const root = protobuf.parse('syntax = "proto2"; message RawExtension { optional bytes raw = 1; } message WatchEvent { optional string type = 1; optional RawExtension object = 2; }').root;
    const len = frames.readUInt32BE(0);
    const ev = root.lookupType('WatchEvent').decode(frames.subarray(4, 4 + len)) as unknown as { type: string; object: { raw: Uint8Array } };
    assert.equal(ev.type, 'ADDED');
    assert.deepEqual(decodeProtobufObject(ev.object.raw), { ok: true, object: roundTrip(cm) });
    assert.deepEqual(decodeWatchFrames(frames).map((f) => f.type), ['ADDED', 'DELETED']);
  });
});
