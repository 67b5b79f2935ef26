// PriorityClasses and Priority admission against a registry on SQLite: validation of classes (table),
// the system classes made at bootstrap, how a pod's priority is resolved, and the refusals.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../storage/registry.ts';
import type { Backend } from '../../storage/backend.ts';
import { FakeClock } from '../../util/clock.ts';
import { StatusError } from '../../util/status.ts';
import type { KubeObject, Pod, PriorityClass } from '../../api/types.ts';
import { validatePriorityClass, validatePriorityClassUpdate } from '../../api/validation/others.ts';
import { fieldErrorMessage } from '../../api/field.ts';
import { Registry } from '../../registry/registry.ts';
import type { Store, WriteOptions } from '../../registry/store.ts';
import { UNAUTHENTICATED_ADMIN } from '../auth/user.ts';
import { discardRecorder } from './recorder.ts';
import type { AdmissionChain } from './chain.ts';
import { defaultAdmission } from './plugins.ts';

let dir: string;
let backend: Backend;
let registry: Registry;
let chain: AdmissionChain;

/** A write through the admission chain, as the API server makes it. */
const admitted = (store: Store, namespace?: string): WriteOptions => ({
  admission: chain.forWrite({ operation: 'CREATE', resource: store.info, subresource: '', namespace, name: '', user: UNAUTHENTICATED_ADMIN, dryRun: false, ...discardRecorder }),
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-priority-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock: new FakeClock() });
  await registry.bootstrap();
  chain = defaultAdmission(registry);
  await chain.start();
});

after(async () => {
  chain.stop();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

const pc = (name: string, value: number, more: Partial<PriorityClass> = {}): PriorityClass => ({ metadata: { name }, value, ...more });

test('PriorityClass validation', () => {
  const cases: Array<[string, PriorityClass, string[]]> = [
    ['a user class', pc('batch', 1000), []],
    ['negative values are fine', pc('scavenger', -10), []],
    ['the highest user value', pc('top', 1_000_000_000), []],
    ['above it', pc('over', 1_000_000_001), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['a system class as it is', pc('system-node-critical', 2000001000), []],
    ['a system class with another value', pc('system-node-critical', 5), ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"]],
    ['an unknown system- name', pc('system-mine', 5), ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]],
    ['a bad preemptionPolicy', pc('p', 1, { preemptionPolicy: 'Sometimes' }), ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"']],
    ['a bad name', pc('Bad_Name', 1), ['metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')']],
  ];
  for (const [what, obj, want] of cases) {
    assert.deepEqual(validatePriorityClass(obj).map((e) => `${e.field}: ${fieldErrorMessage(e)}`), want, what);
  }
  const old = pc('batch', 1000, { metadata: { name: 'batch', resourceVersion: '5' }, preemptionPolicy: 'PreemptLowerPriority' });
  const upd = (more: Partial<PriorityClass>) => validatePriorityClassUpdate({ ...old, ...more }, old).map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
  assert.deepEqual(upd({ description: 'now described', globalDefault: true }), []);
  assert.deepEqual(upd({ value: 1 }), ['value: Forbidden: may not be changed in an update.']);
  assert.deepEqual(upd({ preemptionPolicy: 'Never' }), ['preemptionPolicy: Invalid value: "Never": field is immutable']);
});

test('bootstrap makes the system classes', async () => {
  const list = await registry.store('priorityclasses', 'scheduling.k8s.io').list({});
  const got = list.items.map((o) => [o.metadata?.name, (o as unknown as PriorityClass).value, (o as unknown as PriorityClass).preemptionPolicy]);
  assert.deepEqual(got, [['system-cluster-critical', 2000000000, 'PreemptLowerPriority'], ['system-node-critical', 2000001000, 'PreemptLowerPriority']]);
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StatusError && err.code === 403, String(err));
    return err.message;
  }
  throw new Error('expected a refusal');
}

test('pods get their class priority, or the global default class priority; refusals have the plugin messages', async () => {
  const classes = registry.store('priorityclasses', 'scheduling.k8s.io');
  const pods = registry.store('pods');
  const create = (name: string, spec: Partial<Pod['spec']>) => pods.create('default', { metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } } as KubeObject, admitted(pods, 'default')) as Promise<Pod>;
  const prio = (p: Pod) => [p.spec?.priorityClassName, p.spec?.priority, p.spec?.preemptionPolicy];

  assert.deepEqual(prio(await create('plain', {})), [undefined, 0, 'PreemptLowerPriority']);
  assert.deepEqual(prio(await create('node-critical', { priorityClassName: 'system-node-critical' })), ['system-node-critical', 2000001000, 'PreemptLowerPriority']);
  const pcs = admitted(classes);
  await classes.create(undefined, pc('polite', 50, { preemptionPolicy: 'Never' }) as unknown as KubeObject, pcs);
  assert.deepEqual(prio(await create('polite', { priorityClassName: 'polite' })), ['polite', 50, 'Never']);
  assert.deepEqual(prio(await create('same-values', { priorityClassName: 'polite', priority: 50, preemptionPolicy: 'Never' })), ['polite', 50, 'Never']);

  await classes.create(undefined, pc('default-a', 7, { globalDefault: true }) as unknown as KubeObject, pcs);
  assert.match(await refusal(classes.create(undefined, pc('default-b', 3, { globalDefault: true }) as unknown as KubeObject, pcs)), /priorityclasses.scheduling.k8s.io "default-b" is forbidden: PriorityClass default-a is already marked as default. Only one default can exist/);
  await classes.create(undefined, pc('default-b', 3) as unknown as KubeObject, pcs);
  assert.match(await refusal(classes.guaranteedUpdate(undefined, 'default-b', (o) => ({ ...o, globalDefault: true }), pcs)), /PriorityClass default-a is already marked as default/);
  assert.deepEqual(prio(await create('defaulted', {})), ['default-a', 7, 'PreemptLowerPriority']);

  assert.match(await refusal(create('missing', { priorityClassName: 'nope' })), /^pods "missing" is forbidden: no PriorityClass with name nope was found$/);
  assert.match(await refusal(create('forged', { priorityClassName: 'polite', priority: 1_000_000 })), /the integer value of priority \(1000000\) must not be provided in pod spec; priority admission controller computed 50 from the given PriorityClass name/);
  assert.match(await refusal(create('pushy', { priorityClassName: 'polite', preemptionPolicy: 'PreemptLowerPriority' })), /the string value of PreemptionPolicy \(PreemptLowerPriority\) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name/);
  // A class made just now is found at once by the next pod.
  await classes.create(undefined, pc('fresh', 123) as unknown as KubeObject, pcs);
  assert.deepEqual(prio(await create('fresh', { priorityClassName: 'fresh' })), ['fresh', 123, 'PreemptLowerPriority']);
});
