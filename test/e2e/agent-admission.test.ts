// Kubelet admission end to end: `tinykube up` (real agent, containerd, CNI portmap) and the real
// kubectl. Pods bound with spec.nodeName never meet the scheduler, so the agent judges them as the
// kubelet does: one asking for far more cpu than the node has, and one asking for a host port a
// running pod holds, end Failed with the kubelet's reason and message (jsonpath, describe, get) and a
// Warning event, while the running pod is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, hostPortCluster } from './portmap.ts';

const node = `adm-${process.pid}`;
const env = hostPortCluster(node);


const pod = (name: string, container: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www"]
${container}`;

const jsonpath = async (name: string, path: string) => (await env.cluster.k('get', 'pod', name, '-o', `jsonpath={${path}}`)).trim();

describe('kubelet admission', () => {
  it('fails a pod that asks for more cpu than the node has, and one whose host port is taken; the running pod stays', async () => {
    const port = await freePort();
    await env.cluster.k('apply', '-f', await env.cluster.writeFile('holder.yaml', pod('holder', `    resources:
      requests: {cpu: 100m}
    ports:
    - containerPort: 8080
      hostPort: ${port}
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
`)));
    await env.cluster.k('wait', '--for=condition=Ready', 'pod/holder', '--timeout=60s');
    const holderID = await jsonpath('holder', '.status.containerStatuses[0].containerID');

    const capacity = Number((await env.cluster.k('get', 'node', node, '-o', 'jsonpath={.status.allocatable.cpu}')).trim()) * 1000;
    assert.ok(capacity > 0);
    await env.cluster.k('apply', '-f', await env.cluster.writeFile('hungry.yaml', pod('hungry', `    resources:
      requests: {cpu: "64"}
`)));
    await env.cluster.k('wait', '--for=jsonpath={.status.phase}=Failed', 'pod/hungry', '--timeout=60s');
    const message = `Node didn't have enough resource: cpu, requested: 64000, used: 100, capacity: ${capacity}`;
    assert.equal(await jsonpath('hungry', '.status.reason'), 'OutOfcpu');
    assert.equal(await jsonpath('hungry', '.status.message'), `Pod was rejected: ${message}`);
    await env.until('the OutOfcpu event', async () => (await env.cluster.k('describe', 'pod', 'hungry')).includes('OutOfcpu  '));
    const described = await env.cluster.k('describe', 'pod', 'hungry');
    assert.match(described, /^Status:\s+Failed$/m);
    assert.match(described, /^Reason:\s+OutOfcpu$/m);
    assert.ok(described.includes(`Message:          Pod was rejected: ${message}`), described);
    assert.match(described, new RegExp(`Warning\\s+OutOfcpu\\s+\\S+\\s+kubelet\\s+${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));

    await env.cluster.k('apply', '-f', await env.cluster.writeFile('clash.yaml', pod('clash', `    ports:
    - containerPort: 8080
      hostPort: ${port}
`)));
    await env.cluster.k('wait', '--for=jsonpath={.status.phase}=Failed', 'pod/clash', '--timeout=60s');
    assert.equal(await jsonpath('clash', '.status.reason'), 'NodePorts');
    assert.equal(await jsonpath('clash', '.status.message'), "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports");
    await env.until('the NodePorts event', async () => /Warning\s+NodePorts\s+\S+\s+kubelet\s+Predicate NodePorts failed/.test(await env.cluster.k('describe', 'pod', 'clash')));

    const table = await env.cluster.k('get', 'pods');
    assert.match(table, /^hungry\s+0\/1\s+OutOfcpu\s+0\s/m);
    assert.match(table, /^clash\s+0\/1\s+NodePorts\s+0\s/m);
    assert.match(table, /^holder\s+1\/1\s+Running\s+0\s/m);
    assert.equal(await jsonpath('holder', '.status.containerStatuses[0].containerID'), holderID);

    // Failed pods go at once; the holder within its grace period.
    await env.cluster.k('delete', 'pod', 'hungry', 'clash', 'holder', '--wait=true');
  });
});
