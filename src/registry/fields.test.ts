import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertFieldSelector, defaultFieldLabels, FieldSelectorError, parseFieldSelector } from '../api/fields.ts';
import type { Pod } from '../api/types.ts';
import { eventFieldLabels, eventFields } from './core/events/fields.ts';
import { namespaceFieldLabels } from './core/namespaces/fields.ts';
import { podFieldLabels, podFields } from './core/pods/fields.ts';

test('supported field labels per resource, with the apiserver errors', () => {
  const pod = convertFieldSelector(parseFieldSelector('spec.host=n1,status.phase=Running'), podFieldLabels);
  assert.equal(pod.toString(), 'spec.nodeName=n1,status.phase=Running');
  const cases: [string, typeof podFieldLabels, string][] = [
    ['spec.foo=bar', podFieldLabels, 'field label not supported: spec.foo'],
    ['metadata.namespace=x', namespaceFieldLabels, 'field label not supported: metadata.namespace'],
    ['spec.foo=bar', defaultFieldLabels, '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ];
  for (const [input, labels, message] of cases) {
    assert.throws(
      () => convertFieldSelector(parseFieldSelector(input), labels),
      (e: unknown) => e instanceof FieldSelectorError && e.code === 'ERR_FIELD_LABEL_NOT_SUPPORTED' && e.message === message,
      input,
    );
  }
  convertFieldSelector(parseFieldSelector('involvedObject.uid=u1,involvedObject.name=web,involvedObject.namespace=default'), eventFieldLabels);
});

test('pod and event field values', () => {
  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [], nodeName: 'n1', restartPolicy: 'Always', hostNetwork: true },
    status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }] },
  };
  const f = podFields(pod);
  assert.equal(f['metadata.name'], 'web');
  assert.equal(f['metadata.namespace'], 'default');
  assert.equal(f['spec.hostNetwork'], 'true');
  assert.equal(f['status.podIP'], '10.0.0.5');
  assert.equal(parseFieldSelector('spec.nodeName=n1,status.phase=Running').matches(f), true);
  const ev = eventFields({
    metadata: { name: 'web.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
    source: { component: 'kubelet' },
    reason: 'Pulled',
  });
  assert.equal(parseFieldSelector('involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1').matches(ev), true);
  assert.equal(ev.source, 'kubelet');
});
