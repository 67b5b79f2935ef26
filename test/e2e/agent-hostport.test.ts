// hostPort end to end: `tinykube up` (real agent, containerd and the CNI portmap plugin), the real
// kubectl. The agent hands the pod's host ports to containerd as the sandbox's port mappings; containerd
// passes them to the portmap plugin of the conflist as the `portMappings` capability, and portmap
// writes the DNAT rules. Conflicts between host ports are the scheduler's (NodePorts filter) for the
// pods it places, and the agent's admission's for pods bound by hand (test/e2e/agent-admission.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, hostPortCluster, natTable } from './portmap.ts';

const node = `hp-${process.pid}`;
const env = hostPortCluster(node);

function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
  });
}

/** The NAT rules that mention a port (portmap's DNAT rules carry `--dport <port>`). */
async function natRules(port: number): Promise<string[]> {
  return (await natTable()).split('\n').filter((l) => new RegExp(`\\b${port}\\b`).test(l));
}


const pod = (name: string, hostPort: number) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www && echo served-by-${name} > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - containerPort: 8080
      hostPort: ${hostPort}
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
`;

describe('hostPort', () => {
  it('reaches the container through the node address, and its DNAT rules go with the pod', async () => {
    const port = await freePort();
    await env.cluster.k('apply', '-f', await env.cluster.writeFile('web.yaml', pod('web', port)));
    await env.cluster.k('wait', '--for=condition=Ready', 'pod/web', '--timeout=60s');
    const nodeIP = (await env.cluster.k('get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')).trim();
    assert.match(nodeIP, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok((await natRules(port)).some((l) => /DNAT/.test(l)), 'portmap wrote a DNAT rule for the host port');

    assert.equal(await httpGet(nodeIP, port, '/index.html'), 'served-by-web\n');
    // Localhost works too: with snat (the default, set in our conflist) portmap DNATs 127.0.0.1 in
    // OUTPUT, marks it for masquerade, and sets route_localnet=1 on the bridge so the kernel routes it.
    assert.equal(await httpGet('127.0.0.1', port, '/index.html'), 'served-by-web\n');

    // The same host port again: the scheduler's NodePorts filter keeps it Pending.
    await env.cluster.k('apply', '-f', await env.cluster.writeFile('web2.yaml', pod('web2', port)));
    await env.until('FailedScheduling', async () => /FailedScheduling.*didn't have free ports for the requested pod ports/.test(await env.cluster.k('describe', 'pod', 'web2')));
    assert.match(await env.cluster.k('get', 'pod', 'web2'), /web2\s+0\/1\s+Pending/);
    await env.cluster.k('delete', 'pod', 'web2', '--wait=true');

    await env.cluster.k('delete', 'pod', 'web', '--wait=true');
    await env.until('the DNAT rules removed', async () => (await natRules(port)).length === 0, 30_000);
  });
});
