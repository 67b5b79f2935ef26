import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, Pod } from '../../../api/types.ts';
import { makePod } from '../../../testing/objects.ts';
import type { AuthorizationAttributes } from '../authorizer.ts';
import type { User } from '../user.ts';
import { NodeGraph, podReferences } from './graph.ts';
import { NodeAuthorizer } from './authorizer.ts';
import { nodeIdentity } from './identity.ts';

const nodeA: User = { name: 'system:node:a', groups: ['system:nodes', 'system:authenticated'] };

/** A pod on `node` that uses one of each kind of reference, plus the kube-api-access projected volume. */
function podUsingEverything(name: string, node: string): Pod {
  return makePod(name, 'default')
    .onNode(node)
    .container({
      env: [
        { name: 'S', valueFrom: { secretKeyRef: { name: `env-secret-${name}`, key: 'k' } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: `env-cm-${name}`, key: 'k' } } },
      ],
    })
    .init({ envFrom: [{ secretRef: { name: `envfrom-secret-${name}` } }, { configMapRef: { name: `envfrom-cm-${name}` } }] })
    .with((p) => {
      const spec = p.spec!;
      spec.serviceAccountName = `sa-${name}`;
      spec.imagePullSecrets = [{ name: `pull-${name}` }];
      spec.volumes = [
        { name: 'sec', secret: { secretName: `vol-secret-${name}` } },
        { name: 'cm', configMap: { name: `vol-cm-${name}` } },
        { name: 'data', persistentVolumeClaim: { claimName: `claim-${name}` } },
        { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
        {
          name: 'kube-api-access-abcde',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt' } }, { downwardAPI: {} }] },
        },
      ];
    })
    .build();
}

function pv(name: string, claim: string, secretRef?: { name: string; namespace?: string }): PersistentVolume {
  return { metadata: { name }, spec: { claimRef: { namespace: 'default', name: claim }, csi: { driver: 'x', volumeHandle: name, nodePublishSecretRef: secretRef, controllerPublishSecretRef: { name: 'controller-only', namespace: 'default' } } } };
}

test('podReferences: everything a pod names, as typed keys', () => {
  assert.deepEqual(podReferences(podUsingEverything('p', 'a')).sort(), [
    'configmap:default/env-cm-p',
    'configmap:default/envfrom-cm-p',
    'configmap:default/kube-root-ca.crt',
    'configmap:default/vol-cm-p',
    'pvc:default/claim-p',
    'pvc:default/p-scratch',
    'secret:default/env-secret-p',
    'secret:default/envfrom-secret-p',
    'secret:default/pull-p',
    'secret:default/vol-secret-p',
    'serviceaccount:default/sa-p',
  ]);
});

test('nodeIdentity: only system:node:<name> in system:nodes is a node', () => {
  const cases: [User, { isNode: boolean; nodeName: string }][] = [
    [nodeA, { isNode: true, nodeName: 'a' }],
    [{ name: 'system:node:a', groups: ['system:authenticated'] }, { isNode: false, nodeName: '' }],
    [{ name: 'system:bootstrap:node', groups: ['system:bootstrappers'] }, { isNode: false, nodeName: '' }],
    [{ name: 'system:node-bootstrap', groups: ['system:nodes'] }, { isNode: false, nodeName: '' }],
    [{ name: 'system:node:', groups: ['system:nodes'] }, { isNode: true, nodeName: '' }],
    [{ name: 'alice', groups: ['system:nodes'] }, { isNode: false, nodeName: '' }],
  ];
  for (const [user, want] of cases) assert.deepEqual(nodeIdentity(user), want, user.name);
});

test('graph: relations follow pods, claims and PVs, and disappear with them', () => {
  const g = new NodeGraph();
  g.setPod(podUsingEverything('p', 'a'));
  g.setPod(podUsingEverything('q', 'b'));
  g.setPV(pv('vol-p', 'claim-p', { name: 'pv-secret', namespace: 'default' }));
  const rel = (node: string, type: Parameters<NodeGraph['related']>[1], name: string, ns = 'default') => g.related(node, type, type === 'pv' ? '' : ns, name);
  assert.equal(rel('a', 'pod', 'p'), true);
  assert.equal(rel('a', 'pod', 'q'), false);
  assert.equal(rel('a', 'secret', 'vol-secret-p'), true);
  assert.equal(rel('a', 'secret', 'vol-secret-q'), false);
  assert.equal(rel('a', 'configmap', 'kube-root-ca.crt'), true);
  assert.equal(rel('a', 'configmap', 'kube-root-ca.crt', 'other'), false);
  assert.equal(rel('a', 'pvc', 'p-scratch'), true);
  assert.equal(rel('a', 'pv', 'vol-p'), true);
  assert.equal(rel('b', 'pv', 'vol-p'), false);
  assert.equal(rel('a', 'secret', 'pv-secret'), true, 'a PV secret through pv -> pvc -> pod -> node');
  assert.equal(rel('a', 'secret', 'controller-only'), false, 'controller-publish secrets are not kubelet-visible');
  assert.equal(rel('b', 'serviceaccount', 'sa-q'), true);
  // The pod leaves: everything it granted goes with it; a PV alone grants nothing.
  g.deletePod('default', 'p');
  assert.equal(rel('a', 'pod', 'p'), false);
  assert.equal(rel('a', 'secret', 'vol-secret-p'), false);
  assert.equal(rel('a', 'pv', 'vol-p'), false);
  assert.equal(rel('a', 'secret', 'pv-secret'), false);
  // A shared object stays related while one user remains.
  assert.equal(rel('b', 'configmap', 'kube-root-ca.crt'), true);
  g.deletePV('vol-p');
  g.setPod(podUsingEverything('p', 'a'));
  assert.equal(rel('a', 'pv', 'vol-p'), false);
});

test('graph: an object shared by two pods of one node stays related until both are gone', () => {
  const g = new NodeGraph();
  g.setPod(podUsingEverything('p1', 'a'));
  g.setPod(podUsingEverything('p2', 'a'));
  g.setPod(podUsingEverything('p1', 'a'));
  g.deletePod('default', 'p1');
  assert.equal(g.related('a', 'configmap', 'default', 'kube-root-ca.crt'), true);
  g.deletePod('default', 'p2');
  assert.equal(g.related('a', 'configmap', 'default', 'kube-root-ca.crt'), false);
  g.deletePod('default', 'p2');
  assert.equal(g.related('a', 'configmap', 'default', 'kube-root-ca.crt'), false);
});

test('graph: a mirror pod relates nothing but itself; an unbound pod nothing at all', () => {
  const g = new NodeGraph();
  const mirror = podUsingEverything('m', 'a');
  mirror.metadata!.annotations = { 'kubernetes.io/config.mirror': 'hash' };
  g.setPod(mirror);
  assert.equal(g.related('a', 'pod', 'default', 'm'), true);
  assert.equal(g.related('a', 'secret', 'default', 'vol-secret-m'), false);
  const unbound = podUsingEverything('u', 'a');
  delete unbound.spec!.nodeName;
  g.setPod(unbound);
  assert.equal(g.related('a', 'pod', 'default', 'u'), false);
  assert.equal(g.related('a', 'secret', 'default', 'vol-secret-u'), false);
});

function attrs(over: Partial<AuthorizationAttributes>): AuthorizationAttributes {
  return { user: nodeA, verb: 'get', isResourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: '', subresource: '', namespace: '', name: '', path: '', ...over };
}

test('Node authorizer decisions (kube 1.32 with AuthorizeNodeWithSelectors)', async () => {
  const z = new NodeAuthorizer();
  z.graph.setPod(podUsingEverything('p', 'a'));
  z.graph.setPod(podUsingEverything('q', 'b'));
  z.graph.setPV(pv('vol-p', 'claim-p'));
  const noRel = "no relationship found between node 'a' and this object";
  const cases: [string, Partial<AuthorizationAttributes>, 'allow' | 'noOpinion', string][] = [
    ['get own pod', { resource: 'pods', namespace: 'default', name: 'p' }, 'allow', ''],
    ["get b's pod", { resource: 'pods', namespace: 'default', name: 'q' }, 'noOpinion', noRel],
    ['list all pods', { verb: 'list', resource: 'pods' }, 'noOpinion', 'can only list/watch pods with spec.nodeName field selector'],
    ['watch own pods by nodeName', { verb: 'watch', resource: 'pods', fieldSelector: [{ field: 'spec.nodeName', operator: '=', value: 'a' }] }, 'allow', ''],
    ["list b's pods", { verb: 'list', resource: 'pods', fieldSelector: [{ field: 'spec.nodeName', operator: '=', value: 'b' }] }, 'noOpinion', 'can only list/watch pods with spec.nodeName field selector'],
    ['watch own pod by name', { verb: 'watch', resource: 'pods', namespace: 'default', name: 'p' }, 'allow', ''],
    ['update pod status (admission decides)', { verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'default', name: 'q' }, 'allow', ''],
    ['evict (admission decides)', { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default', name: 'q' }, 'allow', ''],
    ['create mirror pod (admission decides)', { verb: 'create', resource: 'pods', namespace: 'default' }, 'allow', ''],
    ['update a pod', { verb: 'update', resource: 'pods', namespace: 'default', name: 'p' }, 'noOpinion', ''],
    ['exec into a pod', { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'default', name: 'p' }, 'noOpinion', ''],
    ['get own node', { resource: 'nodes', name: 'a' }, 'allow', ''],
    ['get node b', { resource: 'nodes', name: 'b' }, 'noOpinion', "node 'a' cannot read 'b', only its own Node object"],
    ['list nodes', { verb: 'list', resource: 'nodes' }, 'noOpinion', "node 'a' cannot read all nodes, only its own Node object"],
    ['update node b (admission decides)', { verb: 'update', resource: 'nodes', name: 'b' }, 'allow', ''],
    ['patch node status', { verb: 'patch', resource: 'nodes', subresource: 'status', name: 'a' }, 'allow', ''],
    ['delete own node', { verb: 'delete', resource: 'nodes', name: 'a' }, 'noOpinion', ''],
    ['get used secret', { resource: 'secrets', namespace: 'default', name: 'vol-secret-p' }, 'allow', ''],
    ['watch used secret by name', { verb: 'watch', resource: 'secrets', namespace: 'default', name: 'env-secret-p' }, 'allow', ''],
    ['get unrelated secret', { resource: 'secrets', namespace: 'default', name: 'vol-secret-q' }, 'noOpinion', noRel],
    ['list secrets', { verb: 'list', resource: 'secrets', namespace: 'default' }, 'noOpinion', 'No Object name found'],
    ['list secrets of all namespaces', { verb: 'list', resource: 'secrets' }, 'noOpinion', 'can only read namespaced object of this type'],
    ['update a used secret', { verb: 'update', resource: 'secrets', namespace: 'default', name: 'vol-secret-p' }, 'noOpinion', 'can only read resources of this type'],
    ['get kube-root-ca.crt', { resource: 'configmaps', namespace: 'default', name: 'kube-root-ca.crt' }, 'allow', ''],
    ["get kube-root-ca.crt where no pod of a's is", { resource: 'configmaps', namespace: 'kube-system', name: 'kube-root-ca.crt' }, 'noOpinion', noRel],
    ['get used claim', { resource: 'persistentvolumeclaims', namespace: 'default', name: 'claim-p' }, 'allow', ''],
    ['list claims', { verb: 'list', resource: 'persistentvolumeclaims', namespace: 'default' }, 'noOpinion', 'can only get individual resources of this type'],
    ['update used claim status', { verb: 'update', resource: 'persistentvolumeclaims', subresource: 'status', namespace: 'default', name: 'claim-p' }, 'allow', ''],
    ['get bound PV', { resource: 'persistentvolumes', name: 'vol-p' }, 'allow', ''],
    ['token for own pod SA', { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'sa-p' }, 'allow', ''],
    ["token for b's SA", { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'sa-q' }, 'noOpinion', noRel],
    ['get a service account', { resource: 'serviceaccounts', namespace: 'default', name: 'sa-p' }, 'noOpinion', 'can only create tokens for individual service accounts'],
    ['renew own lease', { verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'a' }, 'allow', ''],
    ["renew b's lease", { verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'b' }, 'noOpinion', 'can only access node lease with the same name as the requesting node'],
    ['lease elsewhere', { verb: 'create', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' }, 'noOpinion', 'can only access leases in the "kube-node-lease" system namespace'],
    ['list leases', { verb: 'list', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' }, 'noOpinion', 'can only get, create, update, patch, or delete a node lease'],
    ['events (static rules)', { verb: 'create', resource: 'events', namespace: 'default' }, 'allow', ''],
    ['services (static rules)', { verb: 'watch', resource: 'services' }, 'allow', ''],
    ['CSRs (static rules)', { verb: 'create', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests' }, 'allow', ''],
    ['deployments', { verb: 'list', apiGroup: 'apps', resource: 'deployments' }, 'noOpinion', ''],
    ['non-resource path', { verb: 'get', isResourceRequest: false, path: '/healthz' }, 'noOpinion', ''],
  ];
  for (const [what, over, decision, reason] of cases) {
    assert.deepEqual(await z.authorize(attrs(over)), { decision, reason }, what);
  }
});

test('Node authorizer: no opinion for other users; unknown node named', async () => {
  const z = new NodeAuthorizer();
  const get = { resource: 'secrets', namespace: 'default', name: 's' };
  assert.deepEqual(await z.authorize(attrs({ ...get, user: { name: 'system:bootstrap:node', groups: ['system:bootstrappers'] } })), { decision: 'noOpinion', reason: '' });
  assert.deepEqual(await z.authorize(attrs({ ...get, user: { name: 'system:node:', groups: ['system:nodes'] } })), { decision: 'noOpinion', reason: 'unknown node for user "system:node:"' });
});

test('Node authorizer rules: incomplete for nodes, empty for others', async () => {
  const z = new NodeAuthorizer();
  assert.deepEqual(await z.rulesFor(nodeA), { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' });
  assert.deepEqual(await z.rulesFor({ name: 'alice', groups: [] }), { resourceRules: [], nonResourceRules: [], incomplete: false });
});
