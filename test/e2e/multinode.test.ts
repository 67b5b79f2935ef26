// `tinykube up --nodes 3` end to end (issue 13): three nodes, each a network namespace with its own
// agent and containerd; pods pinned to each node reach each other by address and see each other's own
// address as the source (no NAT between pods); a ClusterIP Service with a backend on every node answers
// from a pod on every node, by DNS name, and from every node itself; after Ctrl-C nothing of it is
// left on the host (namespaces, links, routes, nftables table, processes, mounts).
//
// A local-path claim on the same cluster (issue 15): provisioned on the node its pod was scheduled
// to, the pod's replacement scheduled to that node, the data still there.
//
// Node loss on the same cluster: one node's agent and containerd are killed and its link taken down;
// the node goes Unknown, its Deployment pods are evicted after their tolerations, replacements start on
// the other nodes, the Service's endpoints move and traffic through it recovers (the time from the
// failure to the Service answering again is printed). When the node comes back (its link up, its agent
// started again by `up`), the evicted pods it still ran are stopped and removed: nothing runs twice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
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

// The echo server: cgi-bin/ip answers "<pod name> <the address the connection came from>".
const ECHO_COMMAND = '["sh", "-c", "mkdir -p /www/cgi-bin && printf \'#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\necho $(hostname) $REMOTE_ADDR\\\\n\' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www"]';

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
    command: ${ECHO_COMMAND}
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

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      # Evicted 2 s after the node is unreachable instead of DefaultTolerationSeconds' 300 s.
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector: {matchLabels: {app: web}}
      containers:
      - name: web
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ${ECHO_COMMAND}
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          tcpSocket: {port: http}
          periodSeconds: 1
---
`;

const webService = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

interface WebPod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName: string };
  status: { conditions?: Array<{ type: string; status: string }> };
}

async function webPods(): Promise<WebPod[]> {
  return (JSON.parse(await c.k('get', 'pods', '-l', 'app=web', '-o', 'json')) as { items: WebPod[] }).items;
}

/** PIDs of the processes whose command line contains any of the strings. */
async function processesWith(...needles: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (Number(pid) !== process.pid && needles.some((n) => cmd.includes(n))) out.push(Number(pid));
  }
  return out;
}

/** PIDs of the processes in the pod cgroups (`…/pod<uid>`) of these pods. */
async function processesInPods(uids: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cg = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (uids.some((u) => cg.includes(`pod${u}`))) out.push(Number(pid));
  }
  return out;
}

const pods = nodes.map((n, i) => ({ name: `echo-${i + 1}`, node: n }));
// Clients of the Service that are not its backends: the node proxy masquerades a backend reaching its
// own Service wherever it lands (a documented difference from kube-proxy, src/proxy/builder.ts).
const clientPod = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
`;
const clients = nodes.map((n, i) => ({ name: `client-${i + 1}`, node: n }));
const podIP = new Map<string, string>();

/** busybox httpd gives REMOTE_ADDR as "[::ffff:10.244.1.2]": the plain IPv4 address. */
const plain = (answer: string) => answer.trim().replace(/\[(?:::ffff:)?([^\]]+)\]/, '$1');

async function fetchIn(pod: string, url: string): Promise<string> {
  // busybox wget's own -T crashes (SIGSEGV) in this build: timeout(1) bounds it instead.
  return plain(await c.k('exec', pod, '--', 'timeout', '5', 'wget', '-qO-', url));
}

describe('tinykube up --nodes 3', () => {
  before(async () => {
    // A shorter node-monitor grace period than kube's 40 s for the node-loss part; still longer than
    // the agents' 10 s Lease renewals, or healthy nodes would flap to Unknown between two of them.
    // VXLAN, the backend between machines; up --nodes' own default, host-gw, is exercised in
    // test/integration/overlay.test.ts (routes via node IPs, pod-to-pod traffic without NAT).
    c = await startCluster({ command: 'up', args: ['--nodes', '3', '--name', base, '--node-cidr', nodeCidr, '--node-monitor-grace-period', '16s', '--flannel-backend', 'vxlan'] });
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
    // Each node's pod network says it is up, as Calico's and Cilium's do (no network-unavailable taint).
    await until('NetworkUnavailable False on every node', async () => {
      const list = JSON.parse(await c.k('get', 'nodes', '-o', 'json')) as { items: Array<{ status: { conditions: Array<{ type: string; status: string; reason: string }> } }> };
      return list.items.every((n) => n.status.conditions.some((x) => x.type === 'NetworkUnavailable' && x.status === 'False' && x.reason === 'PodNetworkIsUp'));
    });
  });

  it('pods on different nodes reach each other by address, each seeing the other pod\'s own address', async () => {
    await c.k('apply', '-f', await c.writeFile('echo.yaml', pods.map((p) => echoPod(p.name, p.node)).join('') + clients.map((p) => clientPod(p.name, p.node)).join('') + service));
    await c.k('wait', '--for=condition=Ready', ...[...pods, ...clients].map((p) => `pod/${p.name}`), '--timeout=90s');
    for (const p of [...pods, ...clients]) {
      const pod = JSON.parse(await c.k('get', 'pod', p.name, '-o', 'json')) as { spec: { nodeName: string }; status: { podIP: string } };
      assert.equal(pod.spec.nodeName, p.node);
      podIP.set(p.name, pod.status.podIP);
    }
    assert.equal(new Set(pods.map((p) => podIP.get(p.name)!).map((ip) => ip.split('.').slice(0, 3).join('.'))).size, 3, `each node its own pod range: ${[...podIP.values()]}`);
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        const answer = (await fetchIn(from.name, `http://${podIP.get(to.name)}:8080/cgi-bin/ip`)).trim();
        assert.equal(answer, `${to.name} ${podIP.get(from.name)}`, `${from.name} (${from.node}) → ${to.name} (${to.node})`);
      }
    }
  });

  it('a ClusterIP Service with a backend on every node answers from a pod on every node, by name', async () => {
    for (const from of clients) {
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

  it('a WaitForFirstConsumer claim is provisioned on its pod\'s node, and the replacement pod goes to that node (issue 15)', async () => {
    const claimPod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "test -f /data/note || hostname > /data/note; exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: notes}}
---
`;
    const claim = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: notes}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
`;
    await c.k('apply', '-f', await c.writeFile('claim.yaml', claim + claimPod('writer')));
    await c.k('wait', '--for=condition=Ready', 'pod/writer', '--timeout=90s');
    const writer = JSON.parse(await c.k('get', 'pod', 'writer', '-o', 'json')) as { spec: { nodeName: string } };
    const pvName = (await c.k('get', 'pvc', 'notes', '-o', 'jsonpath={.spec.volumeName}')).trim();
    const pv = JSON.parse(await c.k('get', 'pv', pvName, '-o', 'json')) as { spec: { nodeAffinity: { required: { nodeSelectorTerms: Array<{ matchExpressions: Array<{ key: string; values: string[] }> }> } } } };
    const affinity = pv.spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions[0]!;
    assert.deepEqual([affinity.key, affinity.values], ['kubernetes.io/hostname', [writer.spec.nodeName]], 'the volume is on the node its pod was scheduled to');
    // The pod goes; its replacement (any node would do for the scheduler) lands where the volume is.
    await c.k('delete', 'pod', 'writer', '--wait=true');
    await c.k('apply', '-f', await c.writeFile('reader.yaml', claimPod('reader')));
    await c.k('wait', '--for=condition=Ready', 'pod/reader', '--timeout=90s');
    const reader = JSON.parse(await c.k('get', 'pod', 'reader', '-o', 'json')) as { spec: { nodeName: string } };
    assert.equal(reader.spec.nodeName, writer.spec.nodeName);
    assert.equal((await c.k('exec', 'reader', '--', 'cat', '/data/note')).trim(), 'writer', 'the data the first pod wrote');
    await c.k('delete', 'pod', 'reader', '--wait=true');
    await c.k('delete', 'pvc', 'notes', '--wait=true');
  });

  it('survives losing a node: pods evicted, replaced elsewhere, the Service answers again; the node returns and nothing runs twice', async (t) => {
    await c.k('apply', '-f', await c.writeFile('web.yaml', deployment + webService));
    await c.k('rollout', 'status', 'deployment/web', '--timeout=120s');
    const lost = nodes[2]!;
    const before = await webPods();
    const onLost = before.filter((p) => p.spec.nodeName === lost).map((p) => p.metadata.name);
    assert.ok(onLost.length > 0, `a web pod on ${lost} (preferred anti-affinity spreads them): ${before.map((p) => `${p.metadata.name}@${p.spec.nodeName}`)}`);
    // The client is client-1, on the first node, which stays.
    const ask = async () => (await c.kubectl(['exec', 'client-1', '--', 'timeout', '3', 'wget', '-qO-', 'http://web/cgi-bin/ip'], { timeoutMs: 20_000 })).code === 0;
    assert.ok(await ask(), 'the Service answers before the failure');

    // The failure: the agent and containerd of the node killed (SIGKILL, by PID), its link down.
    const nodeDir = path.join(c.dataDir, 'nodes', lost);
    const pids = await processesWith(`${nodeDir} `, `${nodeDir}/containerd`);
    assert.ok(pids.length >= 2, `agent and containerd of ${lost}: ${pids}`);
    const failedAt = Date.now();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const down = await sh('ip', ['-n', `tinykube-${id}-3`, 'link', 'set', 'eth0', 'down']);
    assert.equal(down.code, 0, down.out);

    await until(`node ${lost} Unknown`, async () => {
      const n = JSON.parse(await c.k('get', 'node', lost, '-o', 'json')) as { status: { conditions: Array<{ type: string; status: string }> } };
      return n.status.conditions.find((x) => x.type === 'Ready')?.status === 'Unknown';
    });
    const unknownAfter = Date.now() - failedAt;
    // Answering again: from the first of ten requests in a row through the Service that succeed.
    let streak = 0;
    let streakFrom = 0;
    await until('the Service answering again', async () => {
      const at = Date.now();
      if (!(await ask())) streak = 0;
      else if (streak++ === 0) streakFrom = at;
      return streak >= 10;
    }, 120_000);
    const recoveredAfter = streakFrom - failedAt;
    await until('three available web replicas on the remaining nodes', async () => {
      const pods = (await webPods()).filter((p) => !p.metadata.deletionTimestamp);
      const ready = pods.filter((p) => p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
      return ready.length === 3 && ready.every((p) => p.spec.nodeName !== lost);
    }, 120_000);
    const replacedAfter = Date.now() - failedAt;
    const evicted = (await webPods()).filter((p) => onLost.includes(p.metadata.name));
    assert.ok(evicted.every((p) => p.metadata.deletionTimestamp), 'the pods of the lost node are being deleted');
    t.diagnostic(`node loss: Unknown after ${(unknownAfter / 1000).toFixed(1)} s, Service answering again after ${(recoveredAfter / 1000).toFixed(1)} s, 3 replicas available again after ${(replacedAfter / 1000).toFixed(1)} s (node-monitor-grace-period 16s, tolerationSeconds 2)`);
    console.log(`# node loss: the Service answered again ${(recoveredAfter / 1000).toFixed(1)} s after the node failed`);

    // The node returns: its link up; `up` has kept starting its agent again.
    const upAgain = await sh('ip', ['-n', `tinykube-${id}-3`, 'link', 'set', 'eth0', 'up']);
    assert.equal(upAgain.code, 0, upAgain.out);
    await until(`node ${lost} Ready again`, async () => {
      const n = JSON.parse(await c.k('get', 'node', lost, '-o', 'json')) as { status: { conditions: Array<{ type: string; status: string }> } };
      return n.status.conditions.find((x) => x.type === 'Ready')?.status === 'True';
    }, 120_000);
    await until('the evicted pods stopped and removed by the returned node', async () => {
      const names = (await webPods()).map((p) => p.metadata.name);
      return onLost.every((n) => !names.includes(n));
    }, 120_000);
    const after = await webPods();
    assert.equal(after.length, 3, `exactly three web pods: ${after.map((p) => `${p.metadata.name}@${p.spec.nodeName}`)}`);
    // Nothing of the evicted pods runs on the node any more: no container process of theirs.
    const uids = before.filter((p) => onLost.includes(p.metadata.name)).map((p) => p.metadata.uid);
    // Awaited, not read once: a fresh-clone CI run found one process of an evicted pod still there the
    // moment the pods were gone from the API (issue 16). The likely cause, fixed since: containerd
    // restarted after a SIGKILL can report a sandbox NOTREADY (or a container UNKNOWN) while its
    // processes run, and the termination skipped those (test/integration/podworkers-containerd-crash).
    // What lingered, and for how long, is printed; one left after 30 s fails the test.
    const first = await processesInPods(uids);
    const seen = await Promise.all(first.map(async (pid) => `${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim()}`));
    const lingerFrom = Date.now();
    const running = await until('no process of an evicted pod left on the returned node', async () => ((await processesInPods(uids)).length === 0 ? [] : false), 30_000).catch(async () => processesInPods(uids));
    if (first.length) t.diagnostic(`processes of evicted pods still there when the pods left the API: ${seen.join('; ')}; gone after ${Date.now() - lingerFrom} ms`);
    assert.deepEqual(running, [], 'no process of an evicted pod is left on the returned node');
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
    // Another cluster on this machine (another `up`, with the same default pod range) keeps its own
    // routes through its own bridge: those are not this cluster's leftovers.
    const ours = routes.split('\n').filter((l) => !/ dev tk[0-9a-f]+br\b/.test(l)).join('\n');
    for (const ip of podIP.values()) assert.doesNotMatch(ours, new RegExp(`^${ip.split('.').slice(0, 3).join('\\.')}\\.0/24`, 'm'), 'no route to its pod ranges');
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
