import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision } from '../../../api/types.ts';
import { ago, NOW, SEC } from '../../printing/testing.ts';
import { printControllerRevision } from './printer.ts';

const cr = (ownerReferences?: NonNullable<ControllerRevision['metadata']>['ownerReferences']): ControllerRevision => ({
  metadata: { name: 'web-6d4b8c9f7', creationTimestamp: ago(30 * SEC), ...(ownerReferences ? { ownerReferences } : {}) },
  data: {},
  revision: 2,
});

describe('printControllerRevision', () => {
  const cases: Array<{ name: string; obj: ControllerRevision; controller: string }> = [
    { name: 'owned by a DaemonSet', obj: cr([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web', uid: 'u', controller: true }]), controller: 'daemonset.apps/web' },
    { name: 'owned by a core kind', obj: cr([{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }]), controller: 'pod/p' },
    { name: 'an owner that is not the controller', obj: cr([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u' }]), controller: '<none>' },
    { name: 'orphan', obj: cr(), controller: '<none>' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(printControllerRevision(c.obj, NOW).cells, ['web-6d4b8c9f7', c.controller, 2, '30s']));
  }
});
