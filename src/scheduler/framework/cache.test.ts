import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode, makePod } from '../../testing/objects.ts';
import { SchedulerCache } from './cache.ts';
import { newPodInfo } from './pod-info.ts';

test('assumed pods count at once; confirmation and forget keep the totals right', () => {
  const c = new SchedulerCache();
  c.addOrUpdateNode(makeNode('n1').build());
  const pod = makePod('p').withRequests({ cpu: '1', memory: '1Gi' });
  c.assume(newPodInfo(pod.build()), 'n1');
  const n1 = c.get('n1')!;
  assert.equal(n1.requested.milliCPU, 1000);
  assert.ok(c.isAssumed('default/p'));
  // The informer delivers the bound pod: confirmed, still counted once.
  c.addOrUpdatePod(pod.onNode('n1').build());
  assert.equal(n1.requested.milliCPU, 1000);
  assert.equal(n1.pods.size, 1);
  assert.ok(!c.isAssumed('default/p'));
  // forget after confirmation does nothing.
  c.forget('default/p');
  assert.equal(n1.requested.milliCPU, 1000);

  const q = makePod('q').withRequests({ cpu: '500m' }).hostPort(80);
  c.assume(newPodInfo(q.build()), 'n1');
  assert.equal(n1.requested.milliCPU, 1500);
  assert.ok(n1.usedPorts.conflicts({ ip: '0.0.0.0', protocol: 'TCP', port: 80 }));
  c.forget('default/q');
  assert.equal(n1.requested.milliCPU, 1000);
  assert.ok(!n1.usedPorts.conflicts({ ip: '0.0.0.0', protocol: 'TCP', port: 80 }));

  c.removePod(pod.build());
  assert.equal(n1.requested.milliCPU, 0);
  assert.equal(n1.pods.size, 0);
});

test('pods on a node not yet seen are kept and counted once the node arrives', () => {
  const c = new SchedulerCache();
  c.addOrUpdatePod(makePod('early').withRequests({ cpu: '1' }).onNode('late').build());
  assert.equal(c.list().length, 0);
  c.addOrUpdateNode(makeNode('late').build());
  assert.equal(c.list().length, 1);
  assert.equal(c.get('late')!.requested.milliCPU, 1000);
  c.removeNode('late');
  assert.equal(c.list().length, 0);
  assert.equal(c.nodeOf('default/early'), 'late');
});

test('image states count the nodes holding each image', () => {
  const c = new SchedulerCache();
  c.addOrUpdateNode(makeNode('a').images({ names: ['nginx:1.25'], sizeBytes: 100 }).build());
  c.addOrUpdateNode(makeNode('b').images({ names: ['nginx:1.25', 'busybox'], sizeBytes: 100 }).build());
  assert.equal(c.get('a')!.imageStates.get('nginx:1.25')!.numNodes, 2);
  assert.equal(c.get('b')!.imageStates.get('busybox:latest')!.numNodes, 1);
  c.removeNode('b');
  assert.equal(c.get('a')!.imageStates.get('nginx:1.25')!.numNodes, 1);
});
