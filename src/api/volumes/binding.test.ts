import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim } from '../types.ts';
import { claimClass, findMatchingVolume, volumeClass, volumeSatisfiesClaim, type MatchOptions } from './binding.ts';

interface ClaimOpts {
  storage?: string;
  cls?: string;
  modes?: string[];
  mode?: string;
  selector?: Record<string, string>;
  annotations?: Record<string, string>;
}

function claim(o: ClaimOpts = {}): PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'ns', uid: 'claim-uid', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: o.storage ?? '1Gi' } },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.mode ? { volumeMode: o.mode } : {}),
      ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
    },
  };
}

interface VolumeOpts {
  storage?: string;
  cls?: string;
  modes?: string[];
  mode?: string;
  phase?: string;
  labels?: Record<string, string>;
  deleting?: boolean;
  node?: string;
  /** "name" pre-binds to data by name, "uid" by name and uid, "other" to another claim. */
  ref?: 'name' | 'uid' | 'other';
}

function volume(name: string, o: VolumeOpts = {}): PersistentVolume {
  const refs = { name: { namespace: 'ns', name: 'data' }, uid: { namespace: 'ns', name: 'data', uid: 'claim-uid' }, other: { namespace: 'ns', name: 'other', uid: 'other-uid' } };
  return {
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}), ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: {
      capacity: { storage: o.storage ?? '1Gi' },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      hostPath: { path: `/srv/${name}` },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.mode ? { volumeMode: o.mode } : {}),
      ...(o.ref ? { claimRef: refs[o.ref] } : {}),
      ...(o.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } } : {}),
    },
    status: { phase: o.phase ?? (o.ref ? 'Bound' : 'Available') },
  };
}

const controller: MatchOptions = { delayBinding: false };
const onNode = (name: string): MatchOptions => ({ delayBinding: true, node: { name, labels: { 'kubernetes.io/hostname': name } } });

test('findMatchingVolume: which volume a claim gets', () => {
  const cases: Array<{ name: string; claim: PersistentVolumeClaim; volumes: PersistentVolume[]; o?: MatchOptions; want: string | undefined }> = [
    { name: 'the smallest that fits', claim: claim({ storage: '2Gi' }), volumes: [volume('10g', { storage: '10Gi' }), volume('1g'), volume('3g', { storage: '3Gi' })], want: '3g' },
    { name: 'none big enough', claim: claim({ storage: '20Gi' }), volumes: [volume('10g', { storage: '10Gi' })], want: undefined },
    { name: 'exact size fits', claim: claim({ storage: '1024Mi' }), volumes: [volume('1g')], want: '1g' },
    { name: 'the claim\'s class only', claim: claim({ cls: 'fast' }), volumes: [volume('none'), volume('slow', { cls: 'slow' }), volume('fast', { cls: 'fast', storage: '5Gi' })], want: 'fast' },
    { name: 'no class matches volumes without one', claim: claim({ cls: '' }), volumes: [volume('fast', { cls: 'fast' }), volume('none', { storage: '2Gi' })], want: 'none' },
    { name: 'the beta annotation is the class', claim: claim({ cls: 'slow', annotations: { 'volume.beta.kubernetes.io/storage-class': 'fast' } }), volumes: [volume('slow', { cls: 'slow' }), volume('fast', { cls: 'fast' })], want: 'fast' },
    { name: 'volume modes must agree (unset is Filesystem)', claim: claim({ mode: 'Block' }), volumes: [volume('fs'), volume('block', { mode: 'Block', storage: '2Gi' })], want: 'block' },
    { name: 'Filesystem claim, unset volume mode', claim: claim({ mode: 'Filesystem' }), volumes: [volume('fs')], want: 'fs' },
    { name: 'every access mode asked for', claim: claim({ modes: ['ReadWriteMany'] }), volumes: [volume('rwo'), volume('rwx', { modes: ['ReadWriteOnce', 'ReadWriteMany'], storage: '5Gi' })], want: 'rwx' },
    { name: 'fewest access modes before size (the controller\'s index)', claim: claim(), volumes: [volume('rwo-rox', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), volume('rwo-10g', { storage: '10Gi' })], want: 'rwo-10g' },
    { name: 'size only in the scheduler', claim: claim(), volumes: [volume('rwo-rox', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), volume('rwo-10g', { storage: '10Gi' })], o: onNode('n1'), want: 'rwo-rox' },
    { name: 'Available volumes only', claim: claim(), volumes: [volume('pending', { phase: 'Pending' }), volume('released', { phase: 'Released' }), volume('failed', { phase: 'Failed' }), volume('ok', { storage: '9Gi' })], want: 'ok' },
    { name: 'not a volume being deleted', claim: claim(), volumes: [volume('going', { deleting: true }), volume('ok', { storage: '2Gi' })], want: 'ok' },
    { name: 'the selector', claim: claim({ selector: { tier: 'fast' } }), volumes: [volume('plain'), volume('fast', { labels: { tier: 'fast' }, storage: '8Gi' })], want: 'fast' },
    { name: 'a selector nothing matches', claim: claim({ selector: { tier: 'gold' } }), volumes: [volume('plain')], want: undefined },
    { name: 'not a volume bound to another claim', claim: claim(), volumes: [volume('taken', { ref: 'other', phase: 'Available' })], want: undefined },
    { name: 'pre-bound (name and uid) beats a smaller one', claim: claim(), volumes: [volume('small', { storage: '1Gi' }), volume('mine', { ref: 'uid', storage: '5Gi' })], want: 'mine' },
    { name: 'pre-bound by name, no uid yet', claim: claim(), volumes: [volume('small'), volume('mine', { ref: 'name', storage: '5Gi', phase: 'Available' })], want: 'mine' },
    { name: 'pre-bound: selector and class not asked', claim: claim({ cls: 'fast', selector: { tier: 'gold' } }), volumes: [volume('mine', { ref: 'uid', cls: 'slow' })], want: 'mine' },
    { name: 'pre-bound but too small: the next best', claim: claim({ storage: '2Gi' }), volumes: [volume('mine', { ref: 'uid' }), volume('other', { storage: '2Gi' })], want: 'other' },
    { name: 'pre-bound, wrong access modes', claim: claim({ modes: ['ReadWriteMany'] }), volumes: [volume('mine', { ref: 'uid' })], want: undefined },
    { name: 'WaitForFirstConsumer, no node: pre-bound only', claim: claim(), volumes: [volume('free')], o: { delayBinding: true }, want: undefined },
    { name: 'WaitForFirstConsumer, no node, pre-bound', claim: claim(), volumes: [volume('free'), volume('mine', { ref: 'uid', storage: '3Gi' })], o: { delayBinding: true }, want: 'mine' },
    { name: 'scheduler: the node\'s volumes', claim: claim(), volumes: [volume('n2', { node: 'n2' }), volume('n1', { node: 'n1', storage: '4Gi' }), volume('anywhere', { storage: '8Gi' })], o: onNode('n1'), want: 'n1' },
    { name: 'scheduler: a pre-bound volume elsewhere matches nothing', claim: claim(), volumes: [volume('mine', { ref: 'uid', node: 'n2' }), volume('n1', { node: 'n1' })], o: onNode('n1'), want: undefined },
    { name: 'scheduler: the claim\'s class, pre-bound too', claim: claim({ cls: 'fast' }), volumes: [volume('mine', { ref: 'uid', cls: 'slow' })], o: onNode('n1'), want: undefined },
  ];
  for (const c of cases) assert.equal(findMatchingVolume(c.claim, c.volumes, c.o ?? controller)?.metadata?.name, c.want, c.name);
});

test('volumeSatisfiesClaim: why a named volume cannot serve the claim (VolumeMismatch), in kube\'s order', () => {
  const cases: Array<{ name: string; pv: PersistentVolume; claim: PersistentVolumeClaim; want: string | undefined }> = [
    { name: 'fits', pv: volume('v', { storage: '2Gi' }), claim: claim(), want: undefined },
    { name: 'being deleted', pv: volume('v', { deleting: true, storage: '100Mi' }), claim: claim(), want: 'the volume is marked for deletion "v"' },
    { name: 'too small', pv: volume('v', { storage: '100Mi', cls: 'x' }), claim: claim(), want: 'requested PV is too small' },
    { name: 'class', pv: volume('v', { cls: 'fast', mode: 'Block' }), claim: claim({ cls: 'slow' }), want: 'storageClassName does not match' },
    { name: 'volume mode', pv: volume('v', { mode: 'Block', modes: ['ReadOnlyMany'] }), claim: claim(), want: 'incompatible volumeMode' },
    { name: 'access modes', pv: volume('v', { modes: ['ReadOnlyMany'] }), claim: claim(), want: 'incompatible accessMode' },
  ];
  for (const c of cases) assert.equal(volumeSatisfiesClaim(c.pv, c.claim), c.want, c.name);
});

test('claimClass and volumeClass: the beta annotation before spec.storageClassName', () => {
  assert.equal(claimClass(claim({ cls: 'spec', annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } })), 'beta');
  assert.equal(claimClass(claim({ cls: 'spec' })), 'spec');
  assert.equal(claimClass(claim()), '');
  const pv = volume('v', { cls: 'spec' });
  assert.equal(volumeClass(pv), 'spec');
  assert.equal(volumeClass({ ...pv, metadata: { name: 'v', annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } } }), 'beta');
});
