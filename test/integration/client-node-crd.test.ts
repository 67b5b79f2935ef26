// The official JavaScript client (@kubernetes/client-node) against custom resources: a CRD made with
// ApiextensionsV1Api, then CustomObjectsApi create / get / list / merge patch / status / delete, and an
// informer on the custom resource that sees each change.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, makeInformer, setHeaderOptions, type KubernetesObject, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import { until } from '../../src/testing/until.ts';

let dir: string;
let cp: ControlPlane;
let kc: KubeConfig;

const G = 'stable.example.com';
const V = 'v1';
const P = 'crontabs';
const NS = 'default';

interface CronTab extends KubernetesObject {
  spec?: { cronSpec?: string; image?: string; replicas?: number };
  status?: { replicas?: number };
}

const crd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${P}.${G}` },
  spec: {
    group: G,
    scope: 'Namespaced',
    names: { plural: P, singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
    versions: [
      {
        name: V,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { cronSpec: { type: 'string' }, image: { type: 'string' }, replicas: { type: 'integer', minimum: 1, _default: 1 } } },
              status: { type: 'object', properties: { replicas: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-client-node-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('CustomObjectsApi CRUD and an informer on a custom resource', async () => {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await ext.createCustomResourceDefinition({ body: crd });
  // Established within a second or so: the apiextensions controller runs in the server.
  for (let i = 0; ; i++) {
    const got = await ext.readCustomResourceDefinition({ name: `${P}.${G}` });
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    assert.ok(i < 50, 'CRD established');
    await new Promise((r) => setTimeout(r, 50));
  }

  const api = kc.makeApiClient(CustomObjectsApi);
  const listFn = () => api.listNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P }) as Promise<{ items: CronTab[] }>;
  const informer = makeInformer<CronTab>(kc, `/apis/${G}/${V}/namespaces/${NS}/${P}`, listFn as never);
  const hooks = new Set<() => void>();
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, () => hooks.forEach((h) => h()));
  // The informer's cache is checked on its events, not polled.
  const watchCache = (check: () => void) => (hooks.add(check), () => hooks.delete(check));
  await informer.start();
  const cache = () => informer.list(NS);
  try {
    const created = (await api.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: 'CronTab', metadata: { name: 'js' }, spec: { cronSpec: '* * * * */5', image: 'img' } } })) as CronTab;
    assert.equal(created.spec?.replicas, 1, 'defaulted');
    await until('the informer to see js', () => cache().some((o) => o.metadata?.name === 'js'), { on: watchCache });

    const got = (await api.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name: 'js' })) as CronTab;
    assert.equal(got.metadata?.uid, created.metadata?.uid);
    const listed = await listFn();
    assert.deepEqual(listed.items.map((o) => o.metadata?.name), ['js']);

    await api.patchNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name: 'js', body: { spec: { replicas: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await until('the informer to see replicas 4', () => cache().some((o) => o.metadata?.name === 'js' && o.spec?.replicas === 4), { on: watchCache });

    await api.patchNamespacedCustomObjectStatus({ group: G, version: V, namespace: NS, plural: P, name: 'js', body: { spec: { replicas: 9 }, status: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const afterStatus = (await api.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name: 'js' })) as CronTab;
    assert.deepEqual([afterStatus.spec?.replicas, afterStatus.status?.replicas], [4, 2]);

    await assert.rejects(
      api.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, body: { apiVersion: `${G}/${V}`, kind: 'CronTab', metadata: { name: 'bad' }, spec: { replicas: 0 } } }),
      (err: { code?: number; body?: string }) => err.code === 422 && /spec\.replicas: Invalid value: 0: spec\.replicas in body should be greater than or equal to 1/.test(String(err.body)),
    );

    await api.deleteNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: P, name: 'js' });
    await until('the informer to see js go', () => cache().length === 0, { on: watchCache });
  } finally {
    await informer.stop();
  }
});
