import { test } from 'node:test';
import { discardRecorder } from './recorder.ts';
import assert from 'node:assert/strict';
import type { KubeObject, Node, Pod } from '../../api/types.ts';
import { makeNode, makePod } from '../../testing/objects.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ResourceInfo } from '../../registry/strategy.ts';
import { StatusError } from '../../util/status.ts';
import type { User } from '../auth/user.ts';
import { NodeRestriction } from './node-restriction.ts';
import type { AdmissionAttributes, AdmissionOperation } from './types.ts';

const nodeA: User = { name: 'system:node:a', groups: ['system:nodes', 'system:authenticated'] };

const podOnA = makePod('pa', 'default').onNode('a').uid('uid-pa').labels({ app: 'x' }).build();
const podOnB = makePod('pb', 'default').onNode('b').uid('uid-pb').build();
const nodeObjA = makeNode('a').build();
nodeObjA.metadata!.uid = 'uid-node-a';

const plugin = new NodeRestriction(undefined as unknown as Registry, {
  pod: async (ns, name) => [podOnA, podOnB].find((p) => p.metadata?.namespace === ns && p.metadata?.name === name) ?? null,
  node: async (name) => (name === 'a' ? nodeObjA : null),
});

function info(resource: string, group = ''): ResourceInfo {
  return { group, version: 'v1', resource, singular: resource, kind: resource, listKind: `${resource}List`, namespaced: resource !== 'nodes', verbs: [] };
}

interface Case {
  what: string;
  op: AdmissionOperation;
  resource: ResourceInfo;
  subresource?: string;
  namespace?: string;
  name?: string;
  obj?: KubeObject;
  old?: KubeObject;
  user?: User;
  /** The refusal's message, or undefined when admitted. */
  error?: string;
  code?: number;
}

const mirror = (mut: (p: Pod) => void = () => {}): Pod => {
  const p = makePod('static-web-a', 'default').onNode('a').annotations({ 'kubernetes.io/config.mirror': 'h' }).build();
  p.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: 'a', uid: 'uid-node-a', controller: true }];
  mut(p);
  return p;
};
const withLabels = (n: Node, labels: Record<string, string>): Node => ({ ...n, metadata: { ...n.metadata, labels } });
const withTaints = (n: Node): Node => ({ ...n, spec: { ...n.spec, taints: [{ key: 'k', effect: 'NoSchedule' }] } });
const tokenRequest = (ref: object | undefined): KubeObject => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], ...(ref ? { boundObjectRef: ref } : {}) } }) as KubeObject;
const pods = info('pods');
const nodes = info('nodes');

const cases: Case[] = [
  { what: 'other users pass', op: 'DELETE', resource: nodes, name: 'b', user: { name: 'admin', groups: ['system:masters'] } },
  { what: 'bootstrap identity passes', op: 'DELETE', resource: nodes, name: 'b', user: { name: 'system:bootstrap:node', groups: ['system:bootstrappers'] } },
  { what: 'unidentifiable node', op: 'DELETE', resource: nodes, name: 'b', user: { name: 'system:node:', groups: ['system:nodes'] }, error: 'nodes "b" is forbidden: could not determine node from user "system:node:"' },
  // pods
  { what: 'own pod status', op: 'UPDATE', resource: pods, subresource: 'status', namespace: 'default', name: 'pa', obj: podOnA, old: podOnA },
  { what: "b's pod status", op: 'UPDATE', resource: pods, subresource: 'status', namespace: 'default', name: 'pb', obj: podOnB, old: podOnB, error: 'pods "pb" is forbidden: node "a" can only update pod status for pods with spec.nodeName set to itself' },
  { what: 'labels through status', op: 'UPDATE', resource: pods, subresource: 'status', namespace: 'default', name: 'pa', obj: { ...podOnA, metadata: { ...podOnA.metadata, labels: { app: 'y' } } }, old: podOnA, error: 'pods "pa" is forbidden: node "a" cannot update labels through pod status' },
  { what: 'delete own pod', op: 'DELETE', resource: pods, namespace: 'default', name: 'pa' },
  { what: "delete b's pod", op: 'DELETE', resource: pods, namespace: 'default', name: 'pb', error: 'pods "pb" is forbidden: node "a" can only delete pods with spec.nodeName set to itself' },
  { what: 'delete a missing pod', op: 'DELETE', resource: pods, namespace: 'default', name: 'gone', error: 'pods "gone" not found', code: 404 },
  { what: 'evict own pod', op: 'CREATE', resource: pods, subresource: 'eviction', namespace: 'default', name: 'pa', obj: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'pa' } } },
  { what: "evict b's pod", op: 'CREATE', resource: pods, subresource: 'eviction', namespace: 'default', name: 'pb', obj: { apiVersion: 'policy/v1', kind: 'Eviction' }, error: 'pods "pb" is forbidden: node a can only evict pods with spec.nodeName set to itself' },
  { what: 'other pod subresource', op: 'CREATE', resource: pods, subresource: 'binding', namespace: 'default', name: 'pa', obj: {}, error: `pods "pa" is forbidden: unexpected pod subresource "binding", only 'status' and 'eviction' are allowed` },
  { what: 'exec is not its concern', op: 'CONNECT', resource: pods, subresource: 'exec', namespace: 'default', name: 'pb' },
  { what: 'a mirror pod', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror() },
  { what: 'a regular pod', op: 'CREATE', resource: pods, namespace: 'default', obj: makePod('x', 'default').onNode('a').build(), error: 'pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "a" can only create mirror pods' },
  { what: 'a mirror pod for b', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => (p.spec!.nodeName = 'b')), error: 'pods "static-web-a" is forbidden: node "a" can only create pods with spec.nodeName set to itself' },
  { what: 'a mirror pod without owner', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => (p.metadata!.ownerReferences = [])), error: 'pods "static-web-a" is forbidden: node "a" can only create pods with an owner reference set to itself' },
  { what: 'a mirror pod owned by a stale node', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => (p.metadata!.ownerReferences![0]!.uid = 'old')), error: 'pods "static-web-a" is forbidden: node a UID mismatch: expected old got uid-node-a' },
  { what: 'a mirror pod using a secret', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => (p.spec!.volumes = [{ name: 's', secret: { secretName: 's' } }])), error: 'pods "static-web-a" is forbidden: node "a" can not create pods that reference secrets' },
  { what: 'a mirror pod with a service account', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => (p.spec!.serviceAccountName = 'default')), error: 'pods "static-web-a" is forbidden: node "a" can not create pods that reference a service account' },
  { what: 'a mirror pod with null entries (validation refuses it later)', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => ((p.spec as unknown as { volumes: null[]; containers: null[] }).volumes = [null])) },
  { what: 'a mirror pod with a null owner', op: 'CREATE', resource: pods, namespace: 'default', obj: mirror((p) => ((p.metadata as unknown as { ownerReferences: null[] }).ownerReferences = [null])), error: 'pods "static-web-a" is forbidden: node "a" can only create pods with an owner reference set to itself' },
  // nodes
  { what: 'create own node', op: 'CREATE', resource: nodes, obj: withLabels(makeNode('a').build(), { 'kubernetes.io/hostname': 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '', 'example.com/x': 'y' }) },
  { what: 'create node b', op: 'CREATE', resource: nodes, obj: makeNode('b').build(), error: 'nodes "b" is forbidden: node "a" is not allowed to modify node "b"' },
  { what: 'register with restricted labels', op: 'CREATE', resource: nodes, obj: withLabels(makeNode('a').build(), { 'node-restriction.kubernetes.io/x': '1', 'node-role.kubernetes.io/control-plane': '' }), error: 'nodes "a" is forbidden: node "a" is not allowed to set the following labels: node-restriction.kubernetes.io/x, node-role.kubernetes.io/control-plane' },
  { what: 'update own node', op: 'UPDATE', resource: nodes, name: 'a', obj: withLabels(nodeObjA, { 'kubernetes.io/hostname': 'a', 'topology.kubernetes.io/zone': 'z' }), old: nodeObjA },
  { what: 'update node b', op: 'UPDATE', resource: nodes, name: 'b', obj: makeNode('b').build(), old: makeNode('b').build(), error: 'nodes "b" is forbidden: node "a" is not allowed to modify node "b"' },
  { what: 'label itself node-restriction', op: 'UPDATE', resource: nodes, name: 'a', obj: withLabels(nodeObjA, { 'kubernetes.io/hostname': 'a', 'node-restriction.kubernetes.io/x': 'y' }), old: nodeObjA, error: 'nodes "a" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x' },
  { what: 'remove own taints', op: 'UPDATE', resource: nodes, subresource: 'status', name: 'a', obj: nodeObjA, old: withTaints(nodeObjA), error: 'nodes "a" is forbidden: node "a" is not allowed to modify taints' },
  { what: 'delete node b', op: 'DELETE', resource: nodes, name: 'b', error: 'nodes "b" is forbidden: node "a" is not allowed to modify node "b"' },
  // tokens
  { what: 'token for own pod', op: 'CREATE', resource: info('serviceaccounts'), subresource: 'token', namespace: 'default', name: 'default', obj: tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'pa', uid: 'uid-pa' }) },
  { what: 'unbound token', op: 'CREATE', resource: info('serviceaccounts'), subresource: 'token', namespace: 'default', name: 'default', obj: tokenRequest(undefined), error: 'serviceaccounts "default" is forbidden: node requested token not bound to a pod' },
  { what: 'token without uid', op: 'CREATE', resource: info('serviceaccounts'), subresource: 'token', namespace: 'default', name: 'default', obj: tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'pa' }), error: 'serviceaccounts "default" is forbidden: node requested token with a pod binding without a uid' },
  { what: 'token for a recreated pod', op: 'CREATE', resource: info('serviceaccounts'), subresource: 'token', namespace: 'default', name: 'default', obj: tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'pa', uid: 'old' }), error: 'serviceaccounts "default" is forbidden: the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated' },
  { what: "token for b's pod", op: 'CREATE', resource: info('serviceaccounts'), subresource: 'token', namespace: 'default', name: 'default', obj: tokenRequest({ apiVersion: 'v1', kind: 'Pod', name: 'pb', uid: 'uid-pb' }), error: 'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node' },
  // leases
  { what: 'own lease', op: 'CREATE', resource: info('leases', 'coordination.k8s.io'), namespace: 'kube-node-lease', obj: { metadata: { name: 'a' } } },
  { what: "b's lease", op: 'UPDATE', resource: info('leases', 'coordination.k8s.io'), namespace: 'kube-node-lease', name: 'b', obj: { metadata: { name: 'b' } }, old: { metadata: { name: 'b' } }, error: 'leases.coordination.k8s.io "b" is forbidden: can only access node lease with the same name as the requesting node' },
  { what: 'lease elsewhere', op: 'CREATE', resource: info('leases', 'coordination.k8s.io'), namespace: 'default', obj: { metadata: { name: 'a' } }, error: 'leases.coordination.k8s.io "a" is forbidden: can only access leases in the "kube-node-lease" system namespace' },
  // claims
  { what: 'claim spec', op: 'UPDATE', resource: info('persistentvolumeclaims'), namespace: 'default', name: 'c', obj: { metadata: { name: 'c' } }, old: { metadata: { name: 'c' } }, error: 'persistentvolumeclaims "c" is forbidden: may only update PVC status' },
  { what: 'claim capacity', op: 'UPDATE', resource: info('persistentvolumeclaims'), subresource: 'status', namespace: 'default', name: 'c', obj: { metadata: { name: 'c', resourceVersion: '2' }, status: { capacity: { storage: '2Gi' } } } as KubeObject, old: { metadata: { name: 'c', resourceVersion: '1' }, status: { capacity: { storage: '1Gi' } } } as KubeObject },
  { what: 'claim phase', op: 'UPDATE', resource: info('persistentvolumeclaims'), subresource: 'status', namespace: 'default', name: 'c', obj: { metadata: { name: 'c' }, status: { phase: 'Lost' } } as KubeObject, old: { metadata: { name: 'c' }, status: { phase: 'Bound' } } as KubeObject, error: 'persistentvolumeclaims "c" is forbidden: node "a" is not allowed to update fields other than status.capacity and status.conditions' },
];

test('NodeRestriction admits what is the node\'s own, with kube\'s messages otherwise', async () => {
  for (const c of cases) {
    const a: AdmissionAttributes = { operation: c.op, resource: c.resource, subresource: c.subresource ?? '', namespace: c.namespace, name: c.name ?? '', user: c.user ?? nodeA, dryRun: false, ...discardRecorder };
    // Creates and updates are checked while mutating, deletes and connects while validating (as the chain calls them).
    const run = c.op === 'CREATE' || c.op === 'UPDATE' ? plugin.admit(a, c.obj!, c.old) : plugin.validate(a, c.obj, c.old);
    if (c.error === undefined) {
      await assert.doesNotReject(run, c.what);
      continue;
    }
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof StatusError, c.what);
      assert.equal(err.message, c.error, c.what);
      assert.equal(err.code, c.code ?? 403, c.what);
      return true;
    });
  }
});
