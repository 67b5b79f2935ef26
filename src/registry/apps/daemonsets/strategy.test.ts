import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../../api/field.ts';
import type { DaemonSet } from '../../../api/types.ts';
import { defaults, prepareForCreate, prepareForUpdate, TEMPLATE_GENERATION_ANNOTATION, validate, validateStatusUpdate, validateUpdate } from './strategy.ts';

const msg = (e: FieldError) => `${e.field}: ${fieldErrorMessage(e)}`;

function ds(mutate: (d: DaemonSet) => void = () => {}): DaemonSet {
  const d: DaemonSet = {
    metadata: { name: 'agent', namespace: 'default', resourceVersion: '5' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  defaults(d);
  mutate(d);
  return d;
}

describe('DaemonSet defaults', () => {
  it('RollingUpdate with maxUnavailable 1 and maxSurge 0, history 10, template pod spec defaults', () => {
    const d = ds();
    assert.deepEqual(d.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(d.spec?.revisionHistoryLimit, 10);
    assert.equal(d.spec?.template.spec?.restartPolicy, 'Always');
    assert.equal(d.spec?.template.spec?.dnsPolicy, 'ClusterFirst');
  });
  it('OnDelete gets no rollingUpdate', () => {
    const d: DaemonSet = { spec: { selector: {}, template: {}, updateStrategy: { type: 'OnDelete' } } };
    defaults(d);
    assert.deepEqual(d.spec?.updateStrategy, { type: 'OnDelete' });
  });
});

describe('DaemonSet validation', () => {
  const cases: Array<{ name: string; mutate: (d: DaemonSet) => void; want: string[] }> = [
    { name: 'valid', mutate: () => {}, want: [] },
    {
      name: 'selector not matching the template',
      mutate: (d) => { d.spec!.template.metadata = { labels: { app: 'other' } }; },
      want: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`'],
    },
    {
      name: 'empty selector',
      mutate: (d) => { d.spec!.selector = {}; },
      want: ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset'],
    },
    { name: 'restartPolicy Never', mutate: (d) => { d.spec!.template.spec!.restartPolicy = 'Never'; }, want: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'] },
    { name: 'activeDeadlineSeconds', mutate: (d) => { d.spec!.template.spec!.activeDeadlineSeconds = 5; }, want: ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported'] },
    {
      name: 'maxUnavailable and maxSurge both 0',
      mutate: (d) => { d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } }; },
      want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
    },
    {
      name: 'both non-zero',
      mutate: (d) => { d.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } }; },
      want: ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero'],
    },
    { name: 'percent over 100', mutate: (d) => { d.spec!.updateStrategy!.rollingUpdate!.maxUnavailable = '150%'; }, want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'] },
    { name: 'negative maxUnavailable', mutate: (d) => { d.spec!.updateStrategy!.rollingUpdate!.maxUnavailable = -1; }, want: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0'] },
    { name: 'unknown strategy', mutate: (d) => { d.spec!.updateStrategy = { type: 'Sideways' }; }, want: ['spec.updateStrategy: Unsupported value: "Sideways": supported values: "OnDelete", "RollingUpdate"'] },
    { name: 'negative history', mutate: (d) => { d.spec!.revisionHistoryLimit = -1; }, want: ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(validate(ds(c.mutate)).map(msg), c.want));
  }

  it('the selector is immutable', () => {
    const old = ds();
    const d = ds((x) => { x.spec!.selector = { matchLabels: { app: 'agent', tier: 'x' } }; x.spec!.template.metadata!.labels = { app: 'agent', tier: 'x' }; });
    assert.deepEqual(validateUpdate(d, old).map(msg), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"agent", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it('collisionCount cannot be decremented', () => {
    const old = ds((x) => { x.status = { collisionCount: 2, currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 }; });
    const d = ds((x) => { x.status = { collisionCount: 1, currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: -1 }; });
    assert.deepEqual(validateStatusUpdate(d, old).map(msg), ['status.numberReady: Invalid value: -1: must be greater than or equal to 0', 'status.collisionCount: Invalid value: 1: cannot be decremented']);
  });
});

describe('template generation annotation', () => {
  it('starts at 1 and moves only with the template', () => {
    const d = ds();
    prepareForCreate(d);
    assert.equal(d.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
    const same = ds((x) => { x.spec!.minReadySeconds = 5; });
    prepareForUpdate(same, d);
    assert.equal(same.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
    const changed = ds((x) => { x.spec!.template.spec!.containers[0].image = 'busybox:2'; });
    prepareForUpdate(changed, same);
    assert.equal(changed.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '2');
  });
});
