// The pod worker and the volume manager: a pod update rewrites downwardAPI files at once, and a pod
// whose claim is not bound waits in ContainerCreating with the FailedMount, then starts once it is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from '../../api/types.ts';
import { makePod, makeStack } from './testing.ts';

const labelsFile = (s: { dir: string }, pod: Pod) => join(s.dir, 'pods', pod.metadata!.uid!, 'volumes', 'kubernetes.io~downward-api', 'info', 'labels');

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

describe('pod worker volumes', () => {
  it('rewrites the downwardAPI labels file when the pod\'s labels change, without waiting for a resync', async () => {
    const s = makeStack();
    try {
      const pod = makePod('web')
        .labels({ app: 'web' })
        .container({ name: 'app', volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }] })
        .with((p) => {
          p.spec!.volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }];
        })
        .build();
      s.workers.update(pod);
      await s.until(() => read(labelsFile(s, pod)) === 'app="web"', 'labels file written');
      const before = readlinkSync(join(labelsFile(s, pod), '..', '..data'));
      // What `kubectl label pod web release=canary` delivers to the agent's informer.
      const relabelled: Pod = { ...pod, metadata: { ...pod.metadata, resourceVersion: '2', labels: { app: 'web', release: 'canary' } } };
      s.workers.update(relabelled);
      await s.until(() => read(labelsFile(s, pod)) === 'app="web"\nrelease="canary"', 'labels file updated');
      assert.notEqual(readlinkSync(join(labelsFile(s, pod), '..', '..data')), before, 'swapped in through a new ..data');
      assert.equal(s.runtime.calls.filter((c) => c.method === 'createContainer').length, 1, 'the container is not restarted');
    } finally {
      await s.close();
    }
  });

  it('holds a pod whose claim is not bound in ContainerCreating, and starts it once the claim is bound', async () => {
    const s = makeStack();
    try {
      const pod = makePod('db')
        .container({ name: 'app', volumeMounts: [{ name: 'data', mountPath: '/data' }] })
        .with((p) => {
          p.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db' } }];
        })
        .build();
      s.source.claims.set('default/data-db', { metadata: { name: 'data-db', namespace: 'default', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } });
      s.workers.update(pod);
      const want = 'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data-db: PVC is not bound';
      await s.until(() => s.statusOf(pod)?.containerStatuses?.[0]?.state?.waiting?.message === want, 'waiting on the claim');
      assert.equal(s.statusOf(pod)!.containerStatuses![0].state!.waiting!.reason, 'ContainerCreating');
      assert.ok(s.recorder.events.some((e) => e.reason === 'FailedMount' && e.message === want));
      assert.equal(s.runtime.calls.filter((c) => c.method === 'runPodSandbox').length, 0, 'no sandbox before the volumes');
      s.source.claims.set('default/data-db', { metadata: { name: 'data-db', namespace: 'default', uid: 'c1' }, spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } });
      s.source.volumes.set('pv-1', { metadata: { name: 'pv-1' }, spec: { claimRef: { uid: 'c1' }, hostPath: { path: join(s.dir, 'pv-1'), type: 'DirectoryOrCreate' } } });
      await s.advance(2000);
      await s.until(() => Boolean(s.statusOf(pod)?.containerStatuses?.[0]?.state?.running), 'db running');
      const cfg = s.runtime.calls.find((c) => c.method === 'createContainer')!.args[1] as { mounts: { containerPath: string; hostPath: string; readonly: boolean }[] };
      assert.deepEqual(cfg.mounts.find((m) => m.containerPath === '/data'), { containerPath: '/data', hostPath: join(s.dir, 'pv-1'), readonly: false });
    } finally {
      await s.close();
    }
  });
});
