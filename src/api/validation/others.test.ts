import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../field.ts';
import type { ConfigMap, Event, Lease, Namespace, Node, Secret } from '../types.ts';
import { defaultNamespace, defaultNode, defaultSecret } from '../defaults/others.ts';
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEvent,
  validateLease,
  validateNamespace,
  validateNamespaceStatusUpdate,
  validateNode,
  validateNodeUpdate,
  validatePodBinding,
  validateSecret,
  validateSecretUpdate,
  validateServiceAccount,
} from './others.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('namespaces: names are DNS-1123 labels; finalizers must be known or qualified', () => {
  assert.deepEqual(render(validateNamespace({ metadata: { name: 'custom-namespace' }, spec: { finalizers: ['kubernetes'] } })), []);
  assert.deepEqual(render(validateNamespace({ metadata: { name: 'my.ns' } })), [
    "metadata.name: Invalid value: \"my.ns\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(render(validateNamespace({ metadata: { name: 'a', namespace: 'b' } })), ['metadata.namespace: Forbidden: not allowed on this type']);
  assert.deepEqual(render(validateNamespace({ metadata: { name: 'a' }, spec: { finalizers: ['custom'] } })), [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
  const ns: Namespace = { metadata: { name: 'dev', resourceVersion: '1' }, status: { phase: 'Active' } };
  assert.deepEqual(render(validateNamespaceStatusUpdate({ ...ns, status: { phase: 'Terminating' } }, ns)), [
    "status.phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
  ]);
});

test('namespace defaults: the metadata.name label', () => {
  const ns: Namespace = { metadata: { name: 'dev', labels: { team: 'a' } }, status: {} };
  defaultNamespace(ns);
  assert.deepEqual(ns.metadata?.labels, { team: 'a', 'kubernetes.io/metadata.name': 'dev' });
  assert.equal(ns.status?.phase, 'Active');
});

test('nodes: taints, resources, podCIDRs', () => {
  const node: Node = {
    metadata: { name: 'node-1' },
    spec: { podCIDRs: ['10.244.1.0/24'], taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } },
  };
  assert.deepEqual(render(validateNode(node)), []);
  const bad: Node = {
    metadata: { name: 'node-1' },
    spec: {
      podCIDRs: ['10.244.1.0/33'],
      taints: [
        { key: 'a', effect: 'Sometimes' },
        { key: 'b', effect: 'NoSchedule' },
        { key: 'b', effect: 'NoSchedule' },
      ],
    },
    status: { capacity: { cpu: '-1' } },
  };
  assert.deepEqual(render(validateNode(bad)), [
    'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    'metadata.taints[2]: Duplicate value: {"key":"b","effect":"NoSchedule"}: taints must be unique by key and effect pair',
    'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
    'spec.podCIDRs[0]: Invalid value: "10.244.1.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
  ]);
  const stored: Node = { ...node, metadata: { name: 'node-1', resourceVersion: '3' } };
  assert.deepEqual(render(validateNodeUpdate({ ...stored, spec: { ...stored.spec, unschedulable: true } }, stored)), []);
  assert.deepEqual(render(validateNodeUpdate({ ...stored, spec: { podCIDRs: ['10.244.2.0/24'] } }, stored)), [
    'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
  ]);
});

test('node defaults: podCIDR mirror, allocatable from capacity', () => {
  const node: Node = { metadata: { name: 'n' }, spec: { podCIDR: '10.244.0.0/24' }, status: { capacity: { cpu: '4000m', memory: '8Gi' } } };
  defaultNode(node);
  assert.deepEqual(node.spec?.podCIDRs, ['10.244.0.0/24']);
  assert.deepEqual(node.status?.capacity, { cpu: '4', memory: '8Gi' });
  assert.deepEqual(node.status?.allocatable, { cpu: '4', memory: '8Gi' });
});

test('configmaps: keys, duplicates across data and binaryData, 1 MiB', () => {
  const ok: ConfigMap = { metadata: { name: 'app', namespace: 'default' }, data: { 'app.conf': 'x=1' }, binaryData: { 'logo.png': b64('png') } };
  assert.deepEqual(render(validateConfigMap(ok)), []);
  assert.deepEqual(render(validateConfigMap({ metadata: { name: 'app', namespace: 'default' }, data: { 'a/b': 'x', k: 'v' }, binaryData: { k: b64('v') } })), [
    "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    'data[k]: Invalid value: "k": duplicate of key present in binaryData',
  ]);
  assert.deepEqual(render(validateConfigMap({ metadata: { name: 'big', namespace: 'default' }, data: { a: 'x'.repeat(1024 * 1024 + 1) } })), [
    ': Too long: may not be more than 1048576 bytes',
  ]);
  const immutable: ConfigMap = { ...ok, metadata: { ...ok.metadata, resourceVersion: '2' }, immutable: true };
  assert.deepEqual(render(validateConfigMapUpdate({ ...immutable, data: { 'app.conf': 'x=2' } }, immutable)), ['data: Forbidden: field is immutable when `immutable` is set']);
});

test('secrets: type-specific keys, immutable type', () => {
  const meta = { name: 's', namespace: 'default' };
  const cases: [Secret, string[]][] = [
    [{ metadata: meta, type: 'Opaque', data: { password: b64('x') } }, []],
    [{ metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: {} }, ['data[.dockerconfigjson]: Required value']],
    [{ metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } }, []],
    [{ metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('not json') } }, [
      `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": ${(() => {
        try {
          JSON.parse('not json');
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })()}`,
    ]],
    [{ metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }, ['data[tls.key]: Required value']],
    [{ metadata: meta, type: 'kubernetes.io/basic-auth', data: {} }, ['data[username]: Required value', 'data[password]: Required value']],
    [{ metadata: meta, type: 'kubernetes.io/service-account-token' }, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
  ];
  for (const [secret, want] of cases) assert.deepEqual(render(validateSecret(secret)), want, secret.type);
  const old: Secret = { metadata: { ...meta, resourceVersion: '1' }, type: 'Opaque' };
  assert.deepEqual(render(validateSecretUpdate({ ...old, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }, old)), [
    'type: Invalid value: "kubernetes.io/tls": field is immutable',
  ]);
});

test('secret defaults: Opaque, stringData folded into data', () => {
  const s: Secret = { metadata: { name: 's' }, stringData: { user: 'admin' }, data: { other: b64('x') } };
  defaultSecret(s);
  assert.deepEqual(s, { metadata: { name: 's' }, type: 'Opaque', data: { other: b64('x'), user: b64('admin') } });
});

test('service accounts, events, leases, bindings', () => {
  assert.deepEqual(render(validateServiceAccount({ metadata: { name: 'default', namespace: 'default' } })), []);
  const ev = (ns: string, ioNs: string): Event => ({ metadata: { name: 'web.1', namespace: ns }, involvedObject: { kind: 'Pod', name: 'web', namespace: ioNs } });
  assert.deepEqual(render(validateEvent(ev('default', 'default'))), []);
  assert.deepEqual(render(validateEvent(ev('default', 'other'))), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  assert.deepEqual(render(validateEvent({ ...ev('team', 'team'), eventTime: '2025-01-01T00:00:00.000000Z' })), [
    'reportingController: Required value',
    "reportingController: Invalid value: \"\": name part must be non-empty",
    "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    'reportingInstance: Required value',
    'action: Required value',
    'reason: Required value',
  ]);
  const lease: Lease = { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } };
  assert.deepEqual(render(validateLease(lease)), []);
  assert.deepEqual(render(validateLease({ ...lease, spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } })), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(render(validatePodBinding({ metadata: { name: 'web' }, target: { kind: 'Node', name: 'node-1' } })), []);
  assert.deepEqual(render(validatePodBinding({ metadata: { name: 'web' }, target: { kind: 'Pod' } })), [
    'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
    'target.name: Required value',
  ]);
});
