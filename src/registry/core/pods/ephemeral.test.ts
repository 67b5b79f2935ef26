import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPod } from '../../../api/defaults/pod.ts';
import type { EphemeralContainer, Pod } from '../../../api/types.ts';
import { validatePodEphemeralContainersUpdate } from '../../../api/validation/pod/index.ts';
import { keepOnlyEphemeralContainers } from './ephemeral.ts';

const debuggerC = (name: string): EphemeralContainer => ({ name, image: 'busybox', terminationMessagePolicy: 'File' });

function pod(ephemeral: EphemeralContainer[]): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '5', creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: ephemeral },
  };
  defaultPod(p);
  return p;
}

test('a write through pods/ephemeralcontainers keeps everything but spec.ephemeralContainers', () => {
  const old = pod([debuggerC('debugger-a')]);
  old.metadata!.labels = { app: 'web' };
  old.status = { phase: 'Running' };
  const next = pod([debuggerC('debugger-a'), debuggerC('debugger-b')]);
  next.metadata!.labels = { app: 'changed' };
  next.spec!.containers[0].image = 'alpine';
  next.spec!.activeDeadlineSeconds = 5;
  next.status = { phase: 'Failed' };
  keepOnlyEphemeralContainers(next, old);
  assert.deepEqual(next.spec!.ephemeralContainers!.map((c) => c.name), ['debugger-a', 'debugger-b']);
  assert.equal(next.spec!.containers[0].image, 'busybox');
  assert.equal(next.spec!.activeDeadlineSeconds, undefined);
  assert.deepEqual(next.status, { phase: 'Running' });
  assert.deepEqual(next.metadata!.labels, { app: 'web' });
  assert.equal(old.spec!.ephemeralContainers!.length, 1, 'the stored pod is not written to');
  assert.deepEqual(validatePodEphemeralContainersUpdate(next, old), []);
});
