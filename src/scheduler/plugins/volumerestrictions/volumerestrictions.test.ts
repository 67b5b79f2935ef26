import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod } from '../../../api/types.ts';
import { makeNode, makePod } from '../../../testing/objects.ts';
import { filterAll, harness } from '../../testing/harness.ts';

function claim(name: string, mode: string): PersistentVolumeClaim {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes: [mode], resources: { requests: { storage: '1Gi' } } } };
}

function using(name: string, claimName: string, node?: string, namespace = 'default'): Pod {
  return makePod(name, namespace).with((p) => {
    p.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
    if (node) p.spec!.nodeName = node;
  }).build();
}

test('VolumeRestrictions: a ReadWriteOncePod claim already used by a pod rejects every other pod that names it', () => {
  const claims = [claim('solo', 'ReadWriteOncePod'), claim('shared', 'ReadWriteOnce'), claim('free', 'ReadWriteOncePod')];
  const placed = [using('holder', 'solo', 'n1'), using('reader', 'shared', 'n1'), using('elsewhere', 'free', 'n2', 'other')];
  const h = harness(['VolumeRestrictions'], [makeNode('n1').build(), makeNode('n2').build()], placed, { claims });
  const conflict = 'UnschedulableAndUnresolvable: node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';
  const cases: Array<{ name: string; pod: Pod; want: Record<string, string> }> = [
    { name: 'RWOP claim in use', pod: using('second', 'solo'), want: { n1: conflict, n2: conflict } },
    { name: 'RWO claim in use: no restriction here', pod: using('second', 'shared'), want: { n1: 'ok', n2: 'ok' } },
    // The pod of the same name in another namespace names another claim.
    { name: 'RWOP claim unused in its namespace', pod: using('first', 'free'), want: { n1: 'ok', n2: 'ok' } },
    { name: 'no claims', pod: makePod('plain').build(), want: { n1: 'ok', n2: 'ok' } },
  ];
  for (const c of cases) assert.deepEqual(filterAll(h, c.pod), c.want, c.name);
});
