// A CRD served in several versions (conversion None: one storage, apiVersion rewritten), a version
// that is not served, discovery's preferred version, and server-side apply of custom resources by
// two managers merging a list by its x-kubernetes-list-map-keys.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

let dir: string;
let cp: ControlPlane;
let client: ApiClient;

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        size: { type: 'integer' },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
        },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      },
    },
  },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-crd-versions-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'crd-versions-test' });
  const served = new Promise<void>((resolve) => {
    const off = cp.registry.onChange(() => {
      if (cp.registry.lookup('example.io', 'v1', 'widgets')) {
        off();
        resolve();
      }
    });
  });
  await client.create({ apiVersion: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions' }, undefined, {
    metadata: { name: 'widgets.example.io' },
    spec: {
      group: 'example.io',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: schema } },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: schema } },
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema }, selectableFields: [{ jsonPath: '.spec.size' }] },
      ],
    },
  } as KubeObject & { metadata: { name: string } });
  await served;
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const beta = { apiVersion: 'example.io/v1beta1', resource: 'widgets' };
const ga = { apiVersion: 'example.io/v1', resource: 'widgets' };

test('served versions share one storage; the unserved one is not found; v1 is preferred', async () => {
  await client.create(beta, 'default', { apiVersion: 'example.io/v1beta1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } } as KubeObject & { metadata: { name: string } });
  const viaGA = await client.get<KubeObject>(ga, 'default', 'w');
  assert.equal(viaGA.apiVersion, 'example.io/v1');
  assert.deepEqual(viaGA.spec, { size: 1 });
  const viaBeta = await client.list<KubeObject>(beta, 'default');
  assert.equal(viaBeta.apiVersion, 'example.io/v1beta1');
  assert.deepEqual(viaBeta.items.map((o) => o.metadata?.name), ['w']);
  // Stored in the storage version, whatever version wrote it.
  const raw = await cp.backend.get('/registry/example.io/widgets/default/w');
  assert.equal((JSON.parse(raw!.value) as KubeObject).apiVersion, 'example.io/v1');
  await assert.rejects(client.get({ apiVersion: 'example.io/v1alpha1', resource: 'widgets' }, 'default', 'w'), (e: unknown) => e instanceof ApiError && e.code === 404);
  const group = await client.requestJson<{ preferredVersion: { version: string }; versions: Array<{ version: string }> }>('GET', '/apis/example.io');
  assert.equal(group.preferredVersion.version, 'v1');
  assert.deepEqual(group.versions.map((v) => v.version), ['v1', 'v1beta1']);
  const index = await client.requestJson<{ paths: Record<string, unknown> }>('GET', '/openapi/v3');
  assert.ok(index.paths['apis/example.io/v1'] && index.paths['apis/example.io/v1beta1'] && !index.paths['apis/example.io/v1alpha1']);
  const crd = await client.get<{ status: { storedVersions: string[] } }>({ apiVersion: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions' }, undefined, 'widgets.example.io');
  assert.deepEqual(crd.status.storedVersions, ['v1']);
});

test('server-side apply merges list-map items by key and set items by value, and reports conflicts', async () => {
  const apply = (manager: string, spec: Record<string, unknown>, force = false) =>
    client.patch<KubeObject>(ga, 'default', 'applied', 'apply', { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'applied' }, spec }, { fieldManager: manager, ...(force ? { force: true } : {}) });
  await apply('a', { ports: [{ name: 'http', port: 80 }], tags: ['x'] });
  await apply('b', { ports: [{ name: 'metrics', port: 9090 }], tags: ['y'] });
  let got = await client.get<{ spec: { ports: Array<{ name: string; port: number }>; tags: string[] } }>(ga, 'default', 'applied');
  assert.deepEqual(got.spec.ports, [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }]);
  assert.deepEqual([...got.spec.tags].sort(), ['x', 'y']);
  // a changes its own item; b's stays.
  await apply('a', { ports: [{ name: 'http', port: 8080 }], tags: ['x'] });
  got = await client.get(ga, 'default', 'applied');
  assert.deepEqual(got.spec.ports, [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }]);
  // b taking a's item is a conflict, unless forced.
  await assert.rejects(apply('b', { ports: [{ name: 'metrics', port: 9090 }, { name: 'http', port: 81 }], tags: ['y'] }), (e: unknown) => e instanceof ApiError && e.code === 409);
  await apply('b', { ports: [{ name: 'metrics', port: 9090 }, { name: 'http', port: 81 }], tags: ['y'] }, true);
  got = await client.get(ga, 'default', 'applied');
  assert.deepEqual(got.spec.ports, [{ name: 'http', port: 81 }, { name: 'metrics', port: 9090 }]);
});

test('a CRD asking for names another CRD of its group holds is not established, and says why', async () => {
  const crds = { apiVersion: 'apiextensions.k8s.io/v1', resource: 'customresourcedefinitions' };
  await client.create(crds, undefined, {
    metadata: { name: 'gadgets.example.io' },
    spec: { group: 'example.io', scope: 'Namespaced', names: { plural: 'gadgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
  } as KubeObject & { metadata: { name: string } });
  type Cond = { type: string; status: string; reason: string; message: string };
  let conds: Cond[] = [];
  for (let i = 0; i < 100 && !conds.length; i++) {
    conds = (await client.get<{ status?: { conditions?: Cond[] } }>(crds, undefined, 'gadgets.example.io')).status?.conditions ?? [];
    if (!conds.length) await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(conds.map((c) => [c.type, c.status, c.reason, c.message]), [
    // Names are checked plural, singular (here "widget", from the kind), short names, then kind.
    ['NamesAccepted', 'False', 'NameConflict', '"widget" is already in use'],
    ['Established', 'False', 'NotAccepted', 'not all names are accepted'],
  ]);
  assert.equal(cp.registry.lookup('example.io', 'v1', 'gadgets'), undefined);
});

test('selectable fields select custom resources; other fields are refused as kube-apiserver does', async () => {
  for (const [name, size] of [['small', 1], ['big', 9]] as const) {
    await client.create(ga, 'default', { apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name }, spec: { size } } as KubeObject & { metadata: { name: string } });
  }
  const big = await client.list<KubeObject>(ga, 'default', { fieldSelector: 'spec.size=9' });
  assert.deepEqual(big.items.map((o) => o.metadata?.name), ['big']);
  const notBig = await client.list<KubeObject>(ga, 'default', { fieldSelector: 'spec.size!=9,metadata.name!=w' });
  assert.deepEqual(notBig.items.map((o) => o.metadata?.name).sort(), ['applied', 'small']);
  await assert.rejects(client.list(ga, 'default', { fieldSelector: 'spec.other=1' }), (e: unknown) => e instanceof ApiError && e.code === 400 && /field label not supported: spec\.other/.test(e.message));
});
