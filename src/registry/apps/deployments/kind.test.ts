import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../../api/field.ts';
import type { Deployment } from '../../../api/types.ts';
import { defaultDeployment } from './kind.ts';
import { validateDeployment, validateDeploymentStatusUpdate, validateDeploymentUpdate } from '../../../api/validation/deployments.ts';

const render = (errs: FieldError[]): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);

function deploy(spec: Record<string, unknown> = {}): Deployment {
  const d = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  } as Deployment;
  defaultDeployment(d);
  return d;
}

test('deployment defaults are apps/v1 SetDefaults_Deployment', () => {
  const d = deploy();
  assert.equal(d.spec?.replicas, 1);
  assert.deepEqual(d.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec?.revisionHistoryLimit, 10);
  assert.equal(d.spec?.progressDeadlineSeconds, 600);
  assert.equal(d.spec?.template?.spec?.restartPolicy, 'Always');
  assert.equal(d.spec?.template?.spec?.dnsPolicy, 'ClusterFirst');
  // Recreate gets no rollingUpdate; given values are kept.
  assert.deepEqual(deploy({ strategy: { type: 'Recreate' } }).spec?.strategy, { type: 'Recreate' });
  assert.deepEqual(deploy({ strategy: { rollingUpdate: { maxSurge: 1 } } }).spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
});

const cases: Array<{ name: string; spec: Record<string, unknown>; want: string[] }> = [
  { name: 'valid', spec: {}, want: [] },
  { name: 'replicas -1', spec: { replicas: -1 }, want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
  {
    name: 'selector does not match template',
    spec: { selector: { matchLabels: { app: 'other' } } },
    want: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
  },
  { name: 'no selector', spec: { selector: undefined }, want: ['spec.selector: Required value'] },
  {
    name: 'empty selector',
    spec: { selector: {} },
    want: ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
  },
  {
    name: 'maxSurge 0 and maxUnavailable 0',
    spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
    want: ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
  },
  {
    name: 'both 0%',
    spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } } },
    want: ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0%: may not be 0 when `maxSurge` is 0'],
  },
  {
    name: 'bad percentages',
    spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '1', maxUnavailable: '101%' } } },
    want: [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: 1: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 101%: must not be greater than 100%',
    ],
  },
  { name: 'negative maxSurge', spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: -1, maxUnavailable: 1 } } }, want: ['spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0'] },
  {
    name: 'rollingUpdate with Recreate',
    spec: { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } },
    want: ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
  },
  {
    name: 'unknown strategy',
    spec: { strategy: { type: 'BlueGreen' } },
    want: ['spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"'],
  },
  { name: 'minReadySeconds -1', spec: { minReadySeconds: -1 }, want: ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'revisionHistoryLimit -1', spec: { revisionHistoryLimit: -1 }, want: ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0'] },
  { name: 'progress deadline not above minReadySeconds', spec: { minReadySeconds: 30, progressDeadlineSeconds: 30 }, want: ['spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds'] },
];

for (const c of cases) {
  test(`deployment validation: ${c.name}`, () => {
    assert.deepEqual(render(validateDeployment(deploy(c.spec))), c.want);
  });
}

test('deployment update: the selector is immutable', () => {
  const old = { ...deploy(), metadata: { name: 'web', namespace: 'default', resourceVersion: '1' } };
  const next = deploy({ selector: { matchLabels: { app: 'web', tier: 'x' } }, template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  next.metadata = { ...old.metadata };
  assert.deepEqual(render(validateDeploymentUpdate(next, old)), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
});

test('deployment status: counts bounded, collisionCount never decremented', () => {
  const old = { ...deploy(), metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, status: { collisionCount: 2 } };
  const next = { ...old, status: { replicas: 1, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1, collisionCount: 1 } };
  assert.deepEqual(render(validateDeploymentStatusUpdate(next, old)), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.collisionCount: Invalid value: 1: cannot be decremented',
  ]);
});
