// nfs volumes end to end on a node without an NFS client: `tinykube up` (real agent and containerd),
// the real kubectl. The pod must never start: a FailedMount event says the node has no NFS client, and
// its container waits in ContainerCreating, with no sandbox made.
//
// A successful NFS mount is not tested here: these machines' kernels have no nfs filesystem (see
// /proc/filesystems) and no nfs-common (mount.nfs), and no NFS server can be run without them. How a
// failing mount.nfs's error reaches the event is unit-tested in src/kubelet/volumes/manager.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startCluster, type Cluster } from './harness.ts';
import { until } from '../../src/testing/until.ts';

const hasNfsClient = ['/sbin/mount.nfs', '/usr/sbin/mount.nfs'].some((p) => existsSync(p));
let c: Cluster;

before(async () => {
  if (!hasNfsClient) c = await startCluster({ command: 'up', args: ['--name', `nfs-${process.pid}`] });
});
after(async () => {
  await c?.stop();
});

/** On timeout the message carries the tail of the node's log. */
const WAIT = { timeoutMs: 30_000, intervalMs: 250, detail: () => c.logs().slice(-4000) };

describe('nfs volumes', () => {
  it('without an NFS client: FailedMount saying so, ContainerCreating, never started', { skip: hasNfsClient && 'this machine has mount.nfs: the no-client path cannot be seen here' }, async () => {
    await c.k('apply', '-f', await c.writeFile('nfs.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: nfs-reader
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: share
    nfs: {server: 192.0.2.250, path: /exports/share, readOnly: true}
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "ls /share; sleep 3600"]
    volumeMounts:
    - {name: share, mountPath: /share}
`));
    const d = await until('FailedMount', async () => {
      const out = await c.k('describe', 'pod', 'nfs-reader');
      return /Warning\s+FailedMount\s/.test(out) ? out : undefined;
    }, WAIT);
    assert.match(d, /Warning\s+FailedMount\s+.*MountVolume\.SetUp failed for volume "share" : this node has no NFS client: \/sbin\/mount\.nfs not found \(install nfs-common\)/);
    assert.match(d, /State:\s+Waiting\n\s+Reason:\s+ContainerCreating/);
    assert.match(await c.k('get', 'pod', 'nfs-reader'), /nfs-reader\s+0\/1\s+ContainerCreating\s+0\s/);
    const pod = JSON.parse(await c.k('get', 'pod', 'nfs-reader', '-o', 'json')) as {
      status: { phase: string; podIP?: string; containerStatuses: { state: { waiting?: { reason: string; message?: string } }; containerID?: string }[] };
    };
    assert.equal(pod.status.phase, 'Pending');
    // No sandbox (so no pod IP) and no container were made.
    assert.equal(pod.status.podIP, undefined);
    assert.equal(pod.status.containerStatuses[0].containerID, undefined);
    assert.equal(pod.status.containerStatuses[0].state.waiting?.reason, 'ContainerCreating');
    assert.match(pod.status.containerStatuses[0].state.waiting?.message ?? '', /no NFS client/);
    await c.k('delete', 'pod', 'nfs-reader', '--wait=true');
  });
});
