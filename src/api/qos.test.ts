import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPodQOS, podQOSClass, type QOSClass } from './qos.ts';
import type { Container, Pod } from './types.ts';

type R = Record<string, string>;
const ctr = (name: string, requests?: R, limits?: R): Container => ({ name, image: 'busybox', resources: { requests, limits } });
const podOf = (containers: Container[], initContainers: Container[] = []): Pod => ({ metadata: { name: 'p' }, spec: { containers, initContainers } });

test('QoS classes as Kubernetes computes them', () => {
  const cases: [string, Pod, QOSClass][] = [
    ['no resources', podOf([ctr('a')]), 'BestEffort'],
    ['zero requests count as unset', podOf([ctr('a', { cpu: '0', memory: '0' })]), 'BestEffort'],
    ['only extended resources', podOf([ctr('a', { 'example.com/gpu': '1' }, { 'example.com/gpu': '1' })]), 'BestEffort'],
    ['requests equal limits', podOf([ctr('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]), 'Guaranteed'],
    ['equal after canonicalisation', podOf([ctr('a', { cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' })]), 'Guaranteed'],
    // The seed walkthrough's linkding pod: requests below limits.
    ['linkding', podOf([ctr('linkding', { cpu: '500m', memory: '128Mi' }, { cpu: '1000m', memory: '256Mi' })]), 'Burstable'],
    ['only cpu limits', podOf([ctr('a', { cpu: '1' }, { cpu: '1' })]), 'Burstable'],
    ['one container best effort', podOf([ctr('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), ctr('b')]), 'Burstable'],
    ['init container without limits', podOf([ctr('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], [ctr('i')]), 'Burstable'],
    ['init container guaranteed too', podOf([ctr('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], [ctr('i', { cpu: '2', memory: '1Gi' }, { cpu: '2', memory: '1Gi' })]), 'Guaranteed'],
    ['only an init container has requests', podOf([ctr('a')], [ctr('i', { memory: '64Mi' })]), 'Burstable'],
  ];
  for (const [name, pod, want] of cases) assert.equal(podQOSClass(pod), want, name);
});

test('a stored qosClass wins', () => {
  const pod = podOf([ctr('a')]);
  pod.status = { qosClass: 'Burstable' };
  assert.equal(getPodQOS(pod), 'Burstable');
  assert.equal(podQOSClass(pod), 'BestEffort');
});
