// `kubectl debug` end to end: `tinykube up` (real agent and containerd), the real kubectl. An
// ephemeral container joins a running pod (its target's PID namespace, the pod's network), runs once,
// is reported under ephemeralContainerStatuses, and is reached by attach (-i), exec and logs; a
// node-debugging pod (host namespaces, the host's / at /host) runs as kubectl shapes it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { kubectlBin, startCluster, type Cluster } from './harness.ts';
import { until } from '../../src/testing/until.ts';

let c: Cluster;
const node = `dbg-${process.pid}`;

before(async () => {
  c = await startCluster({ command: 'up', args: ['--name', node] });
  await c.k('run', 'web', '--image=busybox', '--', 'sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait");
  await c.k('wait', '--for=condition=Ready', 'pod/web', '--timeout=60s');
});
after(async () => {
  await c?.stop();
});

/** Real containers: seconds. */
const WAIT = { timeoutMs: 60_000, intervalMs: 250, detail: () => c.logs().slice(-3000) };

interface EphemeralStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  state: { running?: object; terminated?: { exitCode: number }; waiting?: { reason: string } };
}

async function ephemeralStatus(name: string): Promise<EphemeralStatus | undefined> {
  const pod = JSON.parse(await c.k('get', 'pod', 'web', '-o', 'json')) as { status: { ephemeralContainerStatuses?: EphemeralStatus[] } };
  return pod.status.ephemeralContainerStatuses?.find((s) => s.name === name);
}

describe('kubectl debug POD', () => {
  it('runs an ephemeral container once in its target\'s PID namespace; its status and logs are served', async () => {
    const r = await c.kubectl(['debug', 'web', '--image=busybox', '--attach=false', '--target=web', '--container=dbg1', '--', 'sh', '-c', 'echo hi; ps']);
    assert.equal(r.code, 0, r.stderr);
    await until('dbg1 terminated', async () => (await ephemeralStatus('dbg1'))?.state.terminated !== undefined, WAIT);
    const s = (await ephemeralStatus('dbg1'))!;
    assert.equal(s.state.terminated!.exitCode, 0);
    assert.equal(s.ready, false);
    const logs = await c.k('logs', 'web', '-c', 'dbg1');
    assert.match(logs, /^hi$/m);
    // The target's processes are visible: its PID namespace was joined (CRI NamespaceMode TARGET).
    assert.match(logs, /sleep 3600/);
    // Never restarted, and the pod goes on.
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok((await ephemeralStatus('dbg1'))?.state.terminated);
    assert.match(await c.k('get', 'pod', 'web'), /^web\s+1\/1\s+Running\s+0\s/m);
  });

  // Interactive use: stdin stays open while the user reads the answer. (Piping a whole script and
  // closing stdin at once is not interactive use: kubectl debug sets no stdinOnce, and for such a
  // container containerd's attach detaches the output streams as soon as the client's stdin ends, so
  // whatever the container prints afterwards is lost. Real Kubernetes over containerd behaves the same.)
  it('kubectl debug -i attaches to the new container: stdin in, output out', async () => {
    const child = spawn(kubectlBin, ['--kubeconfig', c.kubeconfig, 'debug', 'web', '-i', '--image=busybox', '--container=dbg2'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    try {
      await until('dbg2 running', async () => (await ephemeralStatus('dbg2'))?.state.running !== undefined, WAIT);
      // The shell may not be attached yet when the first line is written: say it until it answers.
      await until('an answer from the debug container', async () => {
        child.stdin.write('echo hello-from-debug\n');
        return /hello-from-debug/.test(out);
      }, { ...WAIT, intervalMs: 500, detail: () => `stdout: ${out}\nstderr: ${err}` });
      child.stdin.end('exit\n');
      assert.equal(await exited, 0, err);
    } finally {
      child.kill();
    }
    await until('dbg2 terminated', async () => (await ephemeralStatus('dbg2'))?.state.terminated !== undefined, WAIT);
  });

  // -it: kubectl needs a terminal for -t, so it runs under script(1) (util-linux), which gives it a pty.
  it('kubectl debug -it gives the new container a terminal', async () => {
    const cmd = [kubectlBin, '--kubeconfig', c.kubeconfig, 'debug', 'web', '-it', '--image=busybox', '--container=dbg4'].join(' ');
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    try {
      await until('dbg4 running', async () => (await ephemeralStatus('dbg4'))?.state.running !== undefined, WAIT);
      await until('an answer through the terminal', async () => {
        child.stdin.write('tty; echo tty-$((6*7))\r');
        return /tty-42/.test(out);
      }, { ...WAIT, intervalMs: 500, detail: () => out });
      assert.match(out, /\/dev\/pts\/\d+/, 'the shell has a terminal');
      child.stdin.write('exit\r');
      assert.equal(await exited, 0, out);
    } finally {
      child.kill();
    }
    await until('dbg4 terminated', async () => (await ephemeralStatus('dbg4'))?.state.terminated !== undefined, WAIT);
  });

  it('exec reaches a running ephemeral container, which shares the pod\'s network', async () => {
    const r = await c.kubectl(['debug', 'web', '--image=busybox', '--attach=false', '--container=dbg3', '--', 'sleep', '3600']);
    assert.equal(r.code, 0, r.stderr);
    await until('dbg3 running', async () => (await ephemeralStatus('dbg3'))?.state.running !== undefined, WAIT);
    assert.equal(await c.k('exec', 'web', '-c', 'dbg3', '--', 'echo', 'from-exec'), 'from-exec\n');
    const podIP = (await c.k('get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}')).trim();
    assert.match(await c.k('exec', 'web', '-c', 'dbg3', '--', 'ip', 'addr'), new RegExp(`inet ${podIP.replace(/\./g, '\\.')}/`));
  });
});

describe('kubectl debug node/NAME', () => {
  // kubectl 1.32 POSTs the node-debugging pod as protobuf.
  it('creates the node-debugging pod', async () => {
    const r = await c.kubectl(['debug', `node/${node}`, '--image=busybox', '--attach=false', '--', 'true']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('the pod kubectl makes for it runs: host PID, network and IPC namespaces, the host\'s / at /host', async () => {
    // The pod kubectl's legacy profile builds (pkg/cmd/debug/profiles.go), sent as JSON.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'node-debugger' },
      spec: {
        nodeName: node,
        restartPolicy: 'Never',
        hostNetwork: true,
        hostPID: true,
        hostIPC: true,
        tolerations: [{ operator: 'Exists' }],
        volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
        containers: [{
          name: 'debugger',
          image: 'busybox',
          terminationMessagePolicy: 'File',
          volumeMounts: [{ name: 'host-root', mountPath: '/host' }],
          command: ['sh', '-c', 'for n in pid net ipc; do readlink /proc/self/ns/$n; done; test -d /host/proc && test -e /host/etc/os-release && echo host-root-ok'],
        }],
      },
    };
    await c.k('apply', '-f', await c.writeFile('node-debugger.json', JSON.stringify(pod)));
    await until('node-debugger succeeded', async () => (await c.k('get', 'pod', 'node-debugger', '-o', 'jsonpath={.status.phase}')) === 'Succeeded', WAIT);
    const lines = (await c.k('logs', 'node-debugger')).trim().split('\n');
    // The namespaces of the agent itself (the node): `tinykube up` runs in the machine's.
    const agentPid = c.proc.pid!;
    const host = ['pid', 'net', 'ipc'].map((ns) => readlinkSync(`/proc/${agentPid}/ns/${ns}`));
    assert.deepEqual(lines, [...host, 'host-root-ok']);
  });
});
