// `tinykube up --nodes 3` end to end (issue 13): three nodes, each a network namespace with its own
// agent and containerd; pods pinned to each node reach each other by address and see each other's own
// address as the source (no NAT between pods); a ClusterIP Service with a backend on every node answers
// from a pod on every node, by DNS name, and from every node itself; after Ctrl-C nothing of it is
// left on the host (namespaces, links, routes, nftables table, processes, mounts).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { startCluster, untilValue, type Cluster } from './harness.ts';

const base = `mn${process.pid}`;
const nodes = [base, `${base}-m02`, `${base}-m03`];
// A node network of this test's own, away from the default one a user's cluster may hold.
const nodeCidr = `10.45.${100 + (process.pid % 100)}.0/24`;
let c: Cluster;
let id = '';

function sh(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: String(stdout) + String(stderr) })));
}

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => untilValue(c, what, fn, ms);

const echoPod = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: echo}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: echo
    image: busybox
    imagePullPolicy: IfNotPresent
    # cgi-bin/ip answers "<pod name> <the address the connection came from>".
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\necho $(hostname) $REMOTE_ADDR\\\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www"]
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      tcpSocket: {port: http}
      periodSeconds: 1
---
`;

const service = `apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: http}]
`;

const pods = nodes.map((n, i) => ({ name: `echo-${i + 1}`, node: n }));
const podIP = new Map<string, string>();

/** busybox httpd gives REMOTE_ADDR as "[::ffff:10.244.1.2]": the plain IPv4 address. */
const plain = (answer: string) => answer.trim().replace(/\[(?:::ffff:)?([^\]]+)\]/, '$1');

async function fetchIn(pod: string, url: string): Promise<string> {
  // busybox wget's own -T crashes (SIGSEGV) in this build: timeout(1) bounds it instead.
  return plain(await c.k('exec', pod, '--', 'timeout', '5', 'wget', '-qO-', url));
}

describe('tinykube up --nodes 3', () => {
  before(async () => {
    c = await startCluster({ command: 'up', args: ['--nodes', '3', '--name', base, '--node-cidr', nodeCidr] });
    id = createHash('sha256').update(c.dataDir).digest('hex').slice(0, 4);
  });
  after(async () => {
    await c?.stop();
  });

  it('shows three Ready nodes with their own addresses on the node network', async () => {
    const out = await c.k('get', 'nodes', '-o', 'wide');
    const lines = out.trim().split('\n').slice(1);
    assert.equal(lines.length, 3, out);
    const ips = new Set<string>();
    for (const name of nodes) {
      const line = lines.find((l) => l.split(/\s+/)[0] === name);
      assert.ok(line, `node ${name} in\n${out}`);
      const cols = line.split(/\s+/);
      assert.equal(cols[1], 'Ready', line);
      assert.ok(cols[5]!.startsWith(nodeCidr.replace(/\.0\/24$/, '.')), `internal IP of ${name} on ${nodeCidr}: ${line}`);
      ips.add(cols[5]!);
    }
    assert.equal(ips.size, 3, 'distinct internal IPs');
  });

  it('pods on different nodes reach each other by address, each seeing the other pod\'s own address', async () => {
    await c.k('apply', '-f', await c.writeFile('echo.yaml', pods.map((p) => echoPod(p.name, p.node)).join('') + service));
    await c.k('wait', '--for=condition=Ready', ...pods.map((p) => `pod/${p.name}`), '--timeout=90s');
    for (const p of pods) {
      const pod = JSON.parse(await c.k('get', 'pod', p.name, '-o', 'json')) as { spec: { nodeName: string }; status: { podIP: string } };
      assert.equal(pod.spec.nodeName, p.node);
      podIP.set(p.name, pod.status.podIP);
    }
    assert.equal(new Set([...podIP.values()].map((ip) => ip.split('.').slice(0, 3).join('.'))).size, 3, `each node its own pod range: ${[...podIP.values()]}`);
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        const answer = (await fetchIn(from.name, `http://${podIP.get(to.name)}:8080/cgi-bin/ip`)).trim();
        assert.equal(answer, `${to.name} ${podIP.get(from.name)}`, `${from.name} (${from.node}) → ${to.name} (${to.node})`);
      }
    }
  });

  it('a ClusterIP Service with a backend on every node answers from a pod on every node, by name', async () => {
    for (const from of pods) {
      const seen = new Set<string>();
      await until(`${from.name} reaching every backend of the echo Service`, async () => {
        const answer = (await fetchIn(from.name, 'http://echo.default.svc.cluster.local/cgi-bin/ip')).trim();
        const [backend, source] = answer.split(' ');
        assert.equal(source, podIP.get(from.name), `the backend sees the client pod's own address: ${answer}`);
        seen.add(backend!);
        return seen.size === 3;
      });
    }
  });

  it('the Service answers from every node itself', async () => {
    const svc = JSON.parse(await c.k('get', 'service', 'echo', '-o', 'json')) as { spec: { clusterIP: string } };
    for (let i = 1; i <= 3; i++) {
      const r = await sh('ip', ['netns', 'exec', `tinykube-${id}-${i}`, 'timeout', '5', '/bin/busybox', 'wget', '-qO-', `http://${svc.spec.clusterIP}/cgi-bin/ip`]);
      assert.equal(r.code, 0, r.out);
      assert.match(plain(r.out), /^echo-[123] \d+\.\d+\.\d+\.\d+$/);
    }
  });

  it('the host reaches every pod by its address', async () => {
    for (const p of pods) {
      const r = await sh('timeout', ['5', '/bin/busybox', 'wget', '-qO-', `http://${podIP.get(p.name)}:8080/cgi-bin/ip`]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, new RegExp(`^${p.name} `));
    }
  });

  it('after Ctrl-C nothing of it is left on the host', async () => {
    const dataDir = c.dataDir;
    const exited = new Promise((resolve) => c.proc.once('exit', resolve));
    c.proc.kill('SIGINT');
    assert.equal(await exited, 0, c.logs());
    const netns = (await sh('ip', ['netns', 'list'])).out;
    assert.doesNotMatch(netns, new RegExp(`tinykube-${id}-`), 'no namespace of its nodes');
    const links = (await sh('ip', ['-o', 'link', 'show'])).out;
    assert.doesNotMatch(links, new RegExp(`\\btk${id}`), 'no bridge or veth of its nodes');
    const routes = (await sh('ip', ['route', 'show'])).out;
    assert.doesNotMatch(routes, new RegExp(`tk${id}br`), 'no route through its bridge');
    for (const ip of podIP.values()) assert.doesNotMatch(routes, new RegExp(`^${ip.split('.').slice(0, 3).join('\\.')}\\.0/24`, 'm'), 'no route to its pod ranges');
    const tables = (await sh('nft', ['list', 'tables'])).out;
    assert.doesNotMatch(tables, new RegExp(`tinykube-nodes-${id}`), 'no nftables table of its own');
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.includes(dataDir));
    assert.deepEqual(mounts, [], 'nothing mounted under the data dir');
    const left: string[] = [];
    for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
      if (cmd.includes(dataDir)) left.push(`${pid} ${cmd}`);
    }
    assert.deepEqual(left, [], 'no process of the cluster is left');
  });
});
