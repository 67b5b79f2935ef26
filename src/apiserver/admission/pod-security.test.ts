// PodSecurity admission against a registry on SQLite: what each mode does to a pod or a workload
// (refusal, warnings, audit annotations), exemptions, which updates are checked, and the warnings
// for a namespace whose enforce level rises.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../../storage/registry.ts';
import type { Backend } from '../../storage/backend.ts';
import { FakeClock } from '../../util/clock.ts';
import { StatusError } from '../../util/status.ts';
import type { Container, KubeObject, Namespace, Pod, PodSpec } from '../../api/types.ts';
import { Registry } from '../../registry/registry.ts';
import { UNAUTHENTICATED_ADMIN } from '../auth/user.ts';
import { RequestRecord } from './recorder.ts';
import { existingPodWarnings, isSignificantPodUpdate, PodSecurity } from './pod-security.ts';
import type { AdmissionAttributes, AdmissionOperation } from './types.ts';

let dir: string;
let backend: Backend;
let registry: Registry;
let plugin: PodSecurity;

const NAMESPACES: Record<string, Record<string, string>> = {
  open: {},
  enforced: { 'pod-security.kubernetes.io/enforce': 'restricted' },
  audited: { 'pod-security.kubernetes.io/audit': 'baseline' },
  warned: { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.28' },
  trusted: { 'pod-security.kubernetes.io/enforce': 'restricted' },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-psa-'));
  backend = await openBackend(`sqlite:${join(dir, 'state.db')}`);
  registry = new Registry(backend, { clock: new FakeClock() });
  await registry.bootstrap();
  for (const [name, labels] of Object.entries(NAMESPACES)) {
    await registry.store('namespaces').create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } as KubeObject);
  }
  plugin = new PodSecurity(registry, {
    defaults: { enforce: { level: 'privileged', version: { latest: true } }, audit: { level: 'privileged', version: { latest: true } }, warn: { level: 'privileged', version: { latest: true } } },
    exemptions: { usernames: ['system:serviceaccount:kube-system:trusted'], runtimeClasses: ['kata'], namespaces: ['trusted'] },
  });
  await plugin.start();
});

after(async () => {
  plugin.stop();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

function container(name: string, privileged = false): Container {
  return { name, image: 'busybox', ...(privileged ? { securityContext: { privileged: true } } : {}) };
}

function pod(name: string, spec: Partial<PodSpec> = {}, namespace = 'enforced'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [container('c', true)], ...spec } };
}

interface Outcome {
  refusal?: string;
  warnings: string[];
  annotations: Record<string, string>;
}

async function run(resource: { group: string; resource: string }, namespace: string, obj: KubeObject, opts: { old?: KubeObject; subresource?: string; user?: string; operation?: AdmissionOperation } = {}): Promise<Outcome> {
  const record = new RequestRecord();
  const store = registry.stores().find((s) => s.info.group === resource.group && s.info.resource === resource.resource)!;
  const a: AdmissionAttributes = {
    operation: opts.operation ?? (opts.old ? 'UPDATE' : 'CREATE'),
    resource: store.info,
    subresource: opts.subresource ?? '',
    namespace,
    name: obj.metadata?.name ?? '',
    user: opts.user ? { ...UNAUTHENTICATED_ADMIN, name: opts.user } : UNAUTHENTICATED_ADMIN,
    dryRun: false,
    warn: (t) => record.warn(t),
    addAuditAnnotation: (k, v) => record.addAuditAnnotation(k, v),
  };
  let refusal: string | undefined;
  try {
    await plugin.validate(a, obj, opts.old);
  } catch (err) {
    if (!(err instanceof StatusError) || err.code !== 403) throw err;
    refusal = err.message;
  }
  return { ...(refusal ? { refusal } : {}), warnings: record.warnings, annotations: record.auditAnnotations };
}

const PODS = { group: '', resource: 'pods' };
const PRIVILEGED_RESTRICTED =
  'privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
  'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe('PodSecurity admission of pods', () => {
  const cases: { name: string; namespace: string; obj: Pod; opts?: Parameters<typeof run>[3]; want: Outcome }[] = [
    {
      name: 'enforce refuses with kube\'s message',
      namespace: 'enforced',
      obj: pod('x'),
      want: {
        refusal: `pods "x" is forbidden: violates PodSecurity "restricted:latest": ${PRIVILEGED_RESTRICTED}`,
        warnings: [],
        annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest' },
      },
    },
    {
      name: 'audit annotates the audit event only',
      namespace: 'audited',
      obj: pod('x', { hostPID: true }, 'audited'),
      want: {
        warnings: [],
        annotations: {
          'pod-security.kubernetes.io/enforce-policy': 'privileged:latest',
          'pod-security.kubernetes.io/audit-violations': 'would violate PodSecurity "baseline:latest": host namespaces (hostPID=true), privileged (container "c" must not set securityContext.privileged=true)',
        },
      },
    },
    {
      name: 'warn warns at its version',
      namespace: 'warned',
      obj: pod('x', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '1' }] }, containers: [container('c')] }, 'warned'),
      want: { warnings: ['would violate PodSecurity "baseline:v1.28": forbidden sysctls (net.ipv4.tcp_keepalive_time)'], annotations: { 'pod-security.kubernetes.io/enforce-policy': 'privileged:latest' } },
    },
    { name: 'an unlabelled namespace is privileged', namespace: 'open', obj: pod('x', {}, 'open'), want: { warnings: [], annotations: { 'pod-security.kubernetes.io/enforce-policy': 'privileged:latest' } } },
    { name: 'an exempt namespace', namespace: 'trusted', obj: pod('x', {}, 'trusted'), want: { warnings: [], annotations: { 'pod-security.kubernetes.io/exempt': 'namespace' } } },
    { name: 'an exempt user', namespace: 'enforced', obj: pod('x'), opts: { user: 'system:serviceaccount:kube-system:trusted' }, want: { warnings: [], annotations: { 'pod-security.kubernetes.io/exempt': 'user' } } },
    { name: 'an exempt runtime class', namespace: 'enforced', obj: pod('x', { runtimeClassName: 'kata' }), want: { warnings: [], annotations: { 'pod-security.kubernetes.io/exempt': 'runtimeClass' } } },
    { name: 'the status subresource is not checked', namespace: 'enforced', obj: pod('x'), opts: { old: pod('x'), subresource: 'status' }, want: { warnings: [], annotations: {} } },
    { name: 'an update of labels only is not checked', namespace: 'enforced', obj: { ...pod('x'), metadata: { name: 'x', namespace: 'enforced', labels: { a: 'b' } } }, opts: { old: pod('x') }, want: { warnings: [], annotations: {} } },
    {
      name: 'an update of an image is checked',
      namespace: 'enforced',
      obj: pod('x', { containers: [{ ...container('c', true), image: 'busybox:2' }] }),
      opts: { old: pod('x') },
      want: { refusal: `pods "x" is forbidden: violates PodSecurity "restricted:latest": ${PRIVILEGED_RESTRICTED}`, warnings: [], annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest' } },
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      assert.deepEqual(await run(PODS, tc.namespace, tc.obj, tc.opts), tc.want);
    });
  }
});

describe('PodSecurity admission of workloads', () => {
  const template = { metadata: { labels: { app: 'w' } }, spec: { containers: [container('c', true)] } };
  const cases: { name: string; resource: { group: string; resource: string }; obj: KubeObject; subresource?: string; want: Outcome }[] = [
    {
      name: 'a Deployment is warned about at the enforce level, never refused',
      resource: { group: 'apps', resource: 'deployments' },
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace: 'enforced' }, spec: { selector: { matchLabels: { app: 'w' } }, template } },
      want: { warnings: [`would violate PodSecurity "restricted:latest": ${PRIVILEGED_RESTRICTED}`], annotations: {} },
    },
    {
      name: 'a CronJob\'s job template is checked',
      resource: { group: 'batch', resource: 'cronjobs' },
      obj: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'w', namespace: 'enforced' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } } },
      want: { warnings: [`would violate PodSecurity "restricted:latest": ${PRIVILEGED_RESTRICTED}`], annotations: {} },
    },
    {
      name: 'a PodTemplate is checked',
      resource: { group: '', resource: 'podtemplates' },
      obj: { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 'w', namespace: 'enforced' }, template },
      want: { warnings: [`would violate PodSecurity "restricted:latest": ${PRIVILEGED_RESTRICTED}`], annotations: {} },
    },
    {
      name: 'the scale subresource is not checked',
      resource: { group: 'apps', resource: 'deployments' },
      obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace: 'enforced' }, spec: { template } },
      subresource: 'scale',
      want: { warnings: [], annotations: {} },
    },
    {
      name: 'other kinds are not checked',
      resource: { group: '', resource: 'configmaps' },
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w', namespace: 'enforced' } },
      want: { warnings: [], annotations: {} },
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      assert.deepEqual(await run(tc.resource, 'enforced', tc.obj, { subresource: tc.subresource }), tc.want);
    });
  }
});

describe('PodSecurity admission of namespaces', () => {
  const NAMESPACES_RES = { group: '', resource: 'namespaces' };
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'open', labels } }) satisfies Namespace;

  it('refuses bad labels on create with kube\'s 422', async () => {
    await assert.rejects(run(NAMESPACES_RES, 'open', ns({ 'pod-security.kubernetes.io/audit-version': '1.2' })), (err: StatusError) => {
      assert.equal(err.code, 422);
      assert.equal(err.message, 'Namespace "open" is invalid: metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.2": must be "latest" or "v1.x"');
      return true;
    });
  });

  it('lets an update through when the bad labels were already there', async () => {
    const bad = { 'pod-security.kubernetes.io/warn': 'x' };
    assert.deepEqual(await run(NAMESPACES_RES, 'open', ns({ ...bad, other: 'y' }), { old: ns(bad) }), { warnings: [], annotations: {} });
  });

  it('warns about the pods that would violate a raised enforce level', async () => {
    const pods = registry.store('pods');
    for (const [name, privileged] of [['b', true], ['a', true], ['c', true], ['d', false]] as const) {
      await pods.create('open', pod(name, { containers: [container('c', privileged)] }, 'open') as KubeObject);
    }
    const got = await run(NAMESPACES_RES, 'open', ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }), { old: ns({}) });
    assert.deepEqual(got.warnings, [
      'existing pods in namespace "open" violate the new PodSecurity enforce level "baseline:latest"',
      'a (and 2 other pods): privileged',
    ]);
    // Relaxing, or keeping, the level checks nothing.
    assert.deepEqual((await run(NAMESPACES_RES, 'open', ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }), { old: ns({ 'pod-security.kubernetes.io/enforce': 'restricted' }) })).warnings, []);
  });
});

describe('existingPodWarnings', () => {
  it('counts pods that share violations and checks one pod per controller first', () => {
    const owned = (name: string, uid: string, spec: Partial<PodSpec>): Pod => {
      const p = pod(name, spec, 'n');
      p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid, controller: true }];
      return p;
    };
    const pods = [owned('rs-1', 'u1', {}), owned('rs-2', 'u1', {}), pod('solo', { hostNetwork: true }, 'n'), pod('kata', { runtimeClassName: 'kata' }, 'n')];
    assert.deepEqual(existingPodWarnings('n', { level: 'baseline', version: { latest: true } }, pods, (rc) => rc === 'kata'), [
      'existing pods in namespace "n" violate the new PodSecurity enforce level "baseline:latest"',
      'rs-1 (and 1 other pod): privileged',
      'solo: host namespaces, privileged',
    ]);
  });
});

describe('isSignificantPodUpdate', () => {
  const base = pod('x', { containers: [container('c')], ephemeralContainers: [{ name: 'e', image: 'busybox' }] });
  const cases: { name: string; change: (p: Pod) => void; want: boolean }[] = [
    { name: 'labels', change: (p) => (p.metadata!.labels = { a: 'b' }), want: false },
    { name: 'an image', change: (p) => (p.spec!.containers[0]!.image = 'other'), want: true },
    { name: 'a seccomp annotation', change: (p) => (p.metadata!.annotations = { 'container.seccomp.security.alpha.kubernetes.io/c': 'unconfined' }), want: true },
    { name: 'an added ephemeral container', change: (p) => p.spec!.ephemeralContainers!.push({ name: 'f', image: 'busybox' }), want: true },
    { name: 'activeDeadlineSeconds', change: (p) => (p.spec!.activeDeadlineSeconds = 5), want: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const next = structuredClone(base);
      tc.change(next);
      assert.equal(isSignificantPodUpdate(next, base), tc.want);
    });
  }
});
