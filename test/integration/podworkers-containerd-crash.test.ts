// The pod workers over a real containerd that lost track of a pod's processes. First, containerd crashed
// (SIGKILL, its shims and containers left running) and was started again, as when a node's agent and
// containerd die and come back: a pod deleted in the meantime must have nothing left running when its
// deletion is confirmed to the API server. Second, a sandbox's pause process ended under a running
// container: the container is stopped as the kubelet stops it (SIGTERM, the grace period) before the
// pod gets a new sandbox.
//
// containerd 1.6 reloads what it cannot read back from a shim (a task whose status it cannot load, a
// timeout under load) as a NOTREADY sandbox or an UNKNOWN container while their processes still run.
// The first test makes that state deterministically: the container's task is paused (`ctr task pause`),
// which containerd's restart reloads as UNKNOWN, and the sandbox's pause process ends, so the sandbox is
// NOTREADY. A fresh-clone CI run of the multinode e2e once saw a process of an evicted pod outlive the
// pod's deletion on a returned node (issue 16); before the fix, the frozen container below did.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CgroupfsPodCgroups, cgroupMounts } from '../../src/kubelet/cgroups/pod-cgroups.ts';
import { startTestContainerd, type TestContainerd } from '../../src/kubelet/containerd/testing.ts';
import { makePod, makeStackOn } from '../../src/kubelet/podworkers/testing.ts';
import type { Pod } from '../../src/api/types.ts';
import { until } from '../../src/testing/until.ts';

function ctr(tc: TestContainerd, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ctr', ['--address', tc.containerd.socket, '--namespace', 'k8s.io', ...args], (err, stdout, stderr) => (err ? reject(new Error(`ctr ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/** Processes whose cgroup (any hierarchy) is the pod's, with their command lines. */
async function processesInPod(uid: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cg = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cg.includes(`/pod${uid}`)) continue;
    out.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim()}`);
  }
  return out;
}

describe('pod workers on a containerd that lost track of a pod', () => {
  it('a pod deleted while containerd was down (SIGKILL, restarted) has nothing running when its deletion is confirmed: every sandbox stopped, unknown containers and strays in its cgroup killed', async (t) => {
    const tc = await startTestContainerd(t);
    const cgroups = new CgroupfsPodCgroups(`/tinykube-test-${randomBytes(4).toString('hex')}`);
    const dir = mkdtempSync(join(tmpdir(), 'tk-pw-crash-'));
    const pod: Pod = makePod('web').gracePeriod(1).build();
    const uid = pod.metadata!.uid!;
    t.after(async () => {
      await cgroups.killProcesses(uid).catch(() => undefined);
      await cgroups.removeRoot();
      await rm(dir, { recursive: true, force: true });
    });

    // The agent runs the pod.
    const before = makeStackOn(tc.runtime, cgroups, { dir });
    before.workers.update(pod);
    await until('the pod running', () => before.statusOf(pod)?.containerStatuses?.[0]?.state?.running, { timeoutMs: 60_000 });
    const [sandbox] = await tc.runtime.listPodSandbox();
    const [container] = await tc.runtime.listContainers();
    assert.ok(sandbox && container);

    // The node fails: the agent dies (its loops stop; a dead agent cleans nothing), the container is
    // frozen and the pause process ends, then containerd is SIGKILLed and started again.
    await before.workers.stop();
    before.prober.stop();
    before.status.stop();
    await ctr(tc, 'task', 'pause', container.id);
    const pausePid = Number(/^\S+\s+(\d+)/m.exec((await ctr(tc, 'task', 'ls')).split('\n').find((l) => l.startsWith(sandbox.id)) ?? '')?.[1]);
    assert.ok(pausePid > 0, 'the pause process');
    process.kill(pausePid, 'SIGKILL');
    await tc.crashAndRestart();
    assert.deepEqual((await tc.runtime.listPodSandbox()).map((s) => s.state), ['notready'], 'containerd reloads the sandbox as NOTREADY');
    assert.deepEqual((await tc.runtime.listContainers()).map((c) => c.state), ['unknown'], 'and the paused container as UNKNOWN');
    const frozen = await processesInPod(uid);
    assert.equal(frozen.length, 1, `the container's process still runs: ${frozen}`);

    // A process no runtime lists, in the pod's cgroup (as one of a sandbox containerd failed to load).
    const stray = spawn('sleep', ['3600'], { stdio: 'ignore' });
    t.after(() => void stray.kill('SIGKILL'));
    for (const m of cgroupMounts()) {
      if (m.controllers.includes('cpuset') || m.controllers.some((c) => c.startsWith('name='))) continue;
      await writeFile(join(m.path, cgroups.parentFor(pod), 'cgroup.procs'), String(stray.pid)).catch(() => undefined);
    }
    assert.equal((await processesInPod(uid)).length, 2, 'the stray process is in the pod cgroup');

    // The agent comes back and finds the pod deleted (the API's copy has a deletionTimestamp).
    const atConfirmation: string[][] = [];
    const after = makeStackOn(tc.runtime, cgroups, { dir, onConfirmDeletion: async () => void atConfirmation.push(await processesInPod(uid)) });
    t.after(() => after.close());
    const deleted: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 1 } };
    after.workers.update(deleted);
    // Fake time moves while the worker waits, so a retried termination does not wait forever.
    await until('the worker done', () => {
      after.clock.advance(100);
      return !after.workers.has(uid);
    }, { timeoutMs: 60_000 });
    assert.deepEqual(after.deleted, ['web']);
    assert.deepEqual(atConfirmation, [[]], 'no process of the pod when its deletion is confirmed');
    assert.deepEqual(await tc.runtime.listPodSandbox(), []);
    assert.deepEqual(await tc.runtime.listContainers(), []);
    assert.deepEqual(await cgroups.list(), []);
  });

  it('a sandbox whose pause process ended under a running container: the container gets SIGTERM and its grace period before a new sandbox', async (t) => {
    const tc = await startTestContainerd(t);
    const cgroups = new CgroupfsPodCgroups(`/tinykube-test-${randomBytes(4).toString('hex')}`);
    const dir = mkdtempSync(join(tmpdir(), 'tk-pw-pause-'));
    t.after(async () => {
      await cgroups.removeRoot();
      await rm(dir, { recursive: true, force: true });
    });
    const s = makeStackOn(tc.runtime, cgroups, { dir });
    t.after(() => s.close());
    const pod = makePod('web').gracePeriod(10).container({ name: 'app', command: ['sh', '-c', 'trap "echo got SIGTERM; exit 3" TERM; while true; do sleep 0.1; done'] }).build();
    s.workers.update(pod);
    await until('the pod running', () => s.statusOf(pod)?.containerStatuses?.[0]?.state?.running, { timeoutMs: 60_000 });
    const [sandbox] = await tc.runtime.listPodSandbox();
    const pausePid = Number(/^\S+\s+(\d+)/m.exec((await ctr(tc, 'task', 'ls')).split('\n').find((l) => l.startsWith(sandbox!.id)) ?? '')?.[1]);
    process.kill(pausePid, 'SIGKILL');
    await until('the sandbox NOTREADY', async () => (await tc.runtime.listPodSandbox()).some((x) => x.state === 'notready'));
    // The PLEG's relist wakes the worker, as it would on the node.
    await until('a new sandbox with the container running in it', async () => {
      await s.advance(500);
      const sandboxes = await tc.runtime.listPodSandbox();
      return sandboxes.length === 1 && sandboxes[0]!.metadata.attempt === 1 && sandboxes[0]!.state === 'ready' && s.statusOf(pod)?.containerStatuses?.[0]?.state?.running;
    }, { timeoutMs: 60_000, intervalMs: 0 });
    assert.ok(s.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
    // The old instance's log (CRI keeps it after the removal): it was asked to stop, not SIGKILLed.
    const log = await readFile(join(dir, 'logs', `default_web_${pod.metadata!.uid}`, 'app', '0.log'), 'utf8');
    assert.match(log, / stdout F got SIGTERM$/m);
  });
});
