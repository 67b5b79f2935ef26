// DefaultStorageClass and StorageObjectInUseProtection against a registry on SQLite, through the
// admission chain as the API server runs it: which class a new claim gets, and the finalizers new
// volumes and claims carry.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../storage/registry.ts';
import type { Backend } from '../../storage/backend.ts';
import { FakeClock } from '../../util/clock.ts';
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/types.ts';
import { Registry } from '../../registry/registry.ts';
import type { Store, WriteOptions } from '../../registry/store.ts';
import { UNAUTHENTICATED_ADMIN } from '../auth/user.ts';
import { discardRecorder } from './recorder.ts';
import type { AdmissionChain } from './chain.ts';
import { defaultClass as pickDefaultClass } from '../../api/volumes/binding.ts';
import { defaultAdmission } from './plugins.ts';

let dir: string;
let backend: Backend;
let registry: Registry;
let chain: AdmissionChain;
const clock = new FakeClock();

const admitted = (store: Store, namespace?: string): WriteOptions => ({
  admission: chain.forWrite({ operation: 'CREATE', resource: store.info, subresource: '', namespace, name: '', user: UNAUTHENTICATED_ADMIN, dryRun: false, ...discardRecorder }),
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-storage-admission-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock });
  await registry.bootstrap();
  chain = defaultAdmission(registry);
  await chain.start();
});

after(async () => {
  chain.stop();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEFAULT = { 'storageclass.kubernetes.io/is-default-class': 'true' };
const sc = (name: string, created: string, annotations?: Record<string, string>): StorageClass => ({ metadata: { name, creationTimestamp: created, annotations }, provisioner: 'example.com/p' });

test('pickDefaultClass: only annotated classes; the newest; equally new ones by name', () => {
  const cases: Array<[string, StorageClass[], string | undefined]> = [
    ['no classes', [], undefined],
    ['no default', [sc('a', '2025-01-01T00:00:00Z')], undefined],
    ['"false" is not default', [sc('a', '2025-01-01T00:00:00Z', { 'storageclass.kubernetes.io/is-default-class': 'false' })], undefined],
    ['the beta annotation counts', [sc('a', '2025-01-01T00:00:00Z', { 'storageclass.beta.kubernetes.io/is-default-class': 'true' })], 'a'],
    ['newest of two', [sc('old', '2025-01-01T00:00:00Z', DEFAULT), sc('new', '2025-01-02T00:00:00Z', DEFAULT), sc('newer-not-default', '2025-01-03T00:00:00Z')], 'new'],
    ['same time: first name', [sc('b', '2025-01-01T00:00:00Z', DEFAULT), sc('a', '2025-01-01T00:00:00Z', DEFAULT)], 'a'],
  ];
  for (const [what, classes, want] of cases) assert.equal(pickDefaultClass(classes)?.metadata?.name, want, what);
});

test('a claim without a class gets the default class; "", a named class and the beta annotation are kept', async () => {
  const classes = registry.store('storageclasses', 'storage.k8s.io');
  const claims = registry.store('persistentvolumeclaims');
  const create = (name: string, more: { storageClassName?: string; annotations?: Record<string, string> } = {}) =>
    claims.create('default', {
      metadata: { name, annotations: more.annotations },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(more.storageClassName !== undefined ? { storageClassName: more.storageClassName } : {}) },
    } as KubeObject, admitted(claims, 'default')) as Promise<PersistentVolumeClaim>;

  assert.equal((await create('before-any-class')).spec?.storageClassName, undefined, 'no default class: left unset');

  await classes.create(undefined, { metadata: { name: 'plain' }, provisioner: 'example.com/p' } as KubeObject, admitted(classes));
  assert.equal((await create('no-default-yet')).spec?.storageClassName, undefined);

  await classes.create(undefined, { metadata: { name: 'standard', annotations: DEFAULT }, provisioner: 'example.com/p' } as KubeObject, admitted(classes));
  assert.equal((await create('defaulted')).spec?.storageClassName, 'standard', 'a default class made just before the claim is found');
  assert.equal((await create('empty', { storageClassName: '' })).spec?.storageClassName, '', '"" asks for no class');
  assert.equal((await create('named', { storageClassName: 'plain' })).spec?.storageClassName, 'plain');
  const beta = await create('beta', { annotations: { 'volume.beta.kubernetes.io/storage-class': 'plain' } });
  assert.equal(beta.spec?.storageClassName, undefined, 'the beta annotation is a class');

  clock.advance(5_000);
  await classes.create(undefined, { metadata: { name: 'fast', annotations: DEFAULT }, provisioner: 'example.com/p' } as KubeObject, admitted(classes));
  assert.equal((await create('newest-default')).spec?.storageClassName, 'fast', 'several defaults: the newest');

  // Only creates are defaulted: an update leaves a classless claim alone.
  const updated = (await claims.guaranteedUpdate('default', 'before-any-class', (o) => ({ ...o, metadata: { ...o.metadata, labels: { touched: 'yes' } } }), {
    admission: chain.forWrite({ operation: 'UPDATE', resource: claims.info, subresource: '', namespace: 'default', name: 'before-any-class', user: UNAUTHENTICATED_ADMIN, dryRun: false, ...discardRecorder }),
  })) as PersistentVolumeClaim;
  assert.equal(updated.spec?.storageClassName, undefined);
});

test('new volumes and claims carry their protection finalizer once, beside their own', async () => {
  const volumes = registry.store('persistentvolumes');
  const claims = registry.store('persistentvolumeclaims');
  const pv = (name: string, finalizers?: string[]) =>
    volumes.create(undefined, { metadata: { name, finalizers }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` } } } as KubeObject, admitted(volumes)) as Promise<PersistentVolume>;
  const pvc = (name: string, finalizers?: string[]) =>
    claims.create('default', { metadata: { name, finalizers }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } as KubeObject, admitted(claims, 'default')) as Promise<PersistentVolumeClaim>;

  assert.deepEqual((await pv('pv-a')).metadata?.finalizers, ['kubernetes.io/pv-protection']);
  assert.deepEqual((await pv('pv-b', ['example.com/keep'])).metadata?.finalizers, ['example.com/keep', 'kubernetes.io/pv-protection']);
  assert.deepEqual((await pv('pv-c', ['kubernetes.io/pv-protection'])).metadata?.finalizers, ['kubernetes.io/pv-protection']);
  assert.deepEqual((await pvc('claim-a')).metadata?.finalizers, ['kubernetes.io/pvc-protection']);
  assert.deepEqual((await pvc('claim-b', ['example.com/keep'])).metadata?.finalizers, ['example.com/keep', 'kubernetes.io/pvc-protection']);

  // Other kinds are untouched.
  const cms = registry.store('configmaps');
  const cm = await cms.create('default', { metadata: { name: 'cm' }, data: {} } as KubeObject, admitted(cms, 'default'));
  assert.equal(cm.metadata?.finalizers, undefined);
});
