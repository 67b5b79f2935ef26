import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage } from '../field.ts';
import { compareLevels, levelVersionString, parseVersion, policyToEvaluate } from './policy.ts';

describe('Pod Security namespace labels', () => {
  const cases: { name: string; labels?: Record<string, string>; want: [string, string, string]; errors?: string[] }[] = [
    { name: 'no labels: privileged everywhere', want: ['privileged:latest', 'privileged:latest', 'privileged:latest'] },
    { name: 'levels and versions', labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.25', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/audit-version': 'latest' }, want: ['baseline:v1.25', 'restricted:latest', 'restricted:latest'] },
    {
      name: 'a bad enforce level fails closed, bad audit and warn levels fail open',
      labels: { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/audit': 'x', 'pod-security.kubernetes.io/warn': 'Baseline' },
      want: ['restricted:latest', 'privileged:latest', 'privileged:latest'],
      errors: [
        'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
        'metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "x": must be one of privileged, baseline, restricted',
        'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "Baseline": must be one of privileged, baseline, restricted',
      ],
    },
    { name: 'warn defaults to enforce', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.30' }, want: ['restricted:v1.30', 'privileged:latest', 'restricted:v1.30'] },
    { name: 'warn defaults to enforce, keeping its own version', labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.29' }, want: ['baseline:latest', 'privileged:latest', 'baseline:v1.29'] },
    { name: 'an explicit warn level is kept', labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'privileged' }, want: ['restricted:latest', 'privileged:latest', 'privileged:latest'] },
    {
      name: 'a bad version is latest',
      labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.01' },
      want: ['baseline:latest', 'privileged:latest', 'baseline:latest'],
      errors: ['metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "v1.01": must be "latest" or "v1.x"'],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const { policy, errors } = policyToEvaluate(tc.labels);
      assert.deepEqual([levelVersionString(policy.enforce), levelVersionString(policy.audit), levelVersionString(policy.warn)], tc.want);
      assert.deepEqual(errors.map((e) => `${e.field}: ${fieldErrorMessage(e)}`), tc.errors ?? []);
    });
  }

  it('parses versions as kube does', () => {
    const table: [string, string | undefined][] = [['latest', 'latest'], ['v1.0', 'v1.0'], ['v1.32', 'v1.32'], ['v1.01', undefined], ['1.2', undefined], ['v2.1', undefined], ['v1.', undefined]];
    for (const [s, want] of table) {
      const v = parseVersion(s);
      assert.equal(v && (v.latest ? 'latest' : `v1.${v.minor}`), want, s);
    }
  });

  it('orders levels by strictness', () => {
    assert.equal(compareLevels('restricted', 'baseline'), 1);
    assert.equal(compareLevels('privileged', 'baseline'), -1);
    assert.equal(compareLevels('baseline', 'baseline'), 0);
  });
});
