// `tinykube up` stops cleanly on Ctrl-C (no containerd, shim, mount or bridge of its own left) and a
// second `up` on the same data dir brings back the same cluster and runs its pods again; it stops as
// cleanly when its terminal goes away (SIGHUP, with nobody left reading its output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { kubectlBin } from './harness.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');

function startUp(dataDir: string, node: string) {
  const proc = spawn(path.join(repo, 'bin', 'tinykube'), ['up', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--name', node], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('tinykube is up')) resolve();
    });
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (code) => reject(new Error(`up exited (${code}):\n${out}`)));
  });
  return { proc, ready, output: () => out };
}

/** Processes whose command line mentions the data dir (containerd, shims). */
function processesUsing(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && !cmd.includes('up --data-dir')) out.push(`${pid} ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

test('Ctrl-C stops everything; the next up brings the pods back', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tinykube-up-'));
  const dataDir = path.join(dir, 'data');
  const node = `restart-${process.pid}`;
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dataDir, 'server', 'kubeconfig');
  const kubectl = (...args: string[]) =>
    execFileSync(kubectlBin, ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'cache'), ...args], { encoding: 'utf8', env: { ...process.env, HOME: dir }, timeout: 60_000 });

  let up = startUp(dataDir, node);
  t.after(() => {
    if (up.proc.exitCode === null) up.proc.kill('SIGKILL');
  });
  await up.ready;
  kubectl('run', 'keeper', '--image=busybox', '--', 'sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait");
  kubectl('wait', '--for=condition=Ready', 'pod/keeper', '--timeout=60s');
  const uid = JSON.parse(kubectl('get', 'pod', 'keeper', '-o', 'json')).metadata.uid;
  assert.ok(processesUsing(dataDir).some((p) => p.includes('containerd')), 'containerd runs while up runs');

  up.proc.kill('SIGINT');
  const [code] = await once(up.proc, 'exit');
  assert.equal(code, 0, up.output());
  assert.deepEqual(processesUsing(dataDir), [], 'no containerd or shim of this cluster is left');
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(dataDir));
  assert.deepEqual(mounts, [], 'nothing is left mounted under the data dir');

  up = startUp(dataDir, node);
  await up.ready;
  kubectl('wait', '--for=condition=Ready', 'pod/keeper', '--timeout=60s');
  const pod = JSON.parse(kubectl('get', 'pod', 'keeper', '-o', 'json'));
  assert.equal(pod.metadata.uid, uid, 'the same pod, from the same store');
  assert.equal(pod.status.phase, 'Running');
  up.proc.kill('SIGINT');
  await once(up.proc, 'exit');
});

test('a closed terminal (SIGHUP, its output unread) stops everything as Ctrl-C does', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tinykube-up-'));
  const dataDir = path.join(dir, 'data');
  t.after(() => rm(dir, { recursive: true, force: true }));
  const up = startUp(dataDir, `hangup-${process.pid}`);
  t.after(() => {
    if (up.proc.exitCode === null && up.proc.signalCode === null) up.proc.kill('SIGKILL');
  });
  await up.ready;
  assert.ok(processesUsing(dataDir).some((p) => p.includes('containerd')), 'containerd runs while up runs');
  // As a terminal that closes: nobody reads what it writes while it stops (each write fails with EPIPE).
  up.proc.stdout.destroy();
  up.proc.stderr.destroy();
  up.proc.kill('SIGHUP');
  const [code, signal] = await once(up.proc, 'exit');
  assert.deepEqual([code, signal], [0, null], 'up stopped by itself, not by the signal or a write error');
  assert.deepEqual(processesUsing(dataDir), [], 'no containerd or shim of this cluster is left');
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(dataDir));
  assert.deepEqual(mounts, [], 'nothing is left mounted under the data dir');
});
