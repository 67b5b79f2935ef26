import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from './objects.ts';

test('makePod: one default container until containers are given, and copies on build', () => {
  const b = makePod('web');
  const plain = b.build();
  assert.deepEqual(plain.spec?.containers, [{ name: 'c', image: 'busybox' }]);
  assert.equal(plain.metadata?.namespace, 'default');
  assert.equal(plain.status?.phase, 'Pending');
  assert.notEqual(makePod('web').build().metadata?.uid, plain.metadata?.uid, 'each pod its own uid');
  plain.spec!.nodeName = 'changed';
  assert.equal(b.build().spec?.nodeName, undefined, 'build() hands out copies');

  const cases: Array<[string, () => unknown, unknown]> = [
    ['withRequests: one container per set', () => makePod().withRequests({ cpu: '1' }, { cpu: '2' }).build().spec?.containers.map((c) => c.resources?.requests?.cpu), ['1', '2']],
    ['container by name, with its status', () => makePod().container('app', { running: {} }, { ready: true }).build().status?.containerStatuses?.map((s) => [s.name, s.ready]), [['app', true]]],
    ['sidecar is a restartable init container', () => makePod().sidecar('proxy').build().spec?.initContainers?.[0]?.restartPolicy, 'Always'],
    ['container defaults apply to containers added later', () => makePod().containerDefaults({ command: ['sleep', '1'] }).container('a').build().spec?.containers[0]?.command, ['sleep', '1']],
    ['hostPort on the default container', () => makePod().hostPort(80).build().spec?.containers.map((c) => c.ports?.[0]?.hostPort), [80]],
    ['a condition replaces one of its type', () => makePod().condition('Ready', 'False').condition('Ready', 'True').build().status?.conditions?.map((c) => c.status), ['True']],
  ];
  for (const [name, got, want] of cases) assert.deepEqual(got(), want, name);
});

test('makeNode: hostname label, room for pods, conditions and taints', () => {
  const n = makeNode('n1').ready('False').taint({ key: 'k', effect: 'NoSchedule' }).unschedulable().build();
  assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'n1');
  assert.equal(n.status?.allocatable?.pods, '110');
  assert.deepEqual(n.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Ready', 'False', 'KubeletNotReady']]);
  assert.deepEqual(n.spec, { taints: [{ key: 'k', effect: 'NoSchedule' }], unschedulable: true });
});
