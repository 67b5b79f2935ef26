// Services end to end on `tinykube up`: real containers (busybox httpd backends, a busybox client pod),
// the node's nftables proxy and its cluster DNS, the real kubectl. What issue 12 asks a user to be able
// to do: reach a Service by its DNS names from a pod and spread over its ready backends, see a backend
// leave and rejoin the rotation with its readiness, NodePort and LoadBalancer from the host, a
// refused connection for a Service without endpoints, headless/SRV/ExternalName/pod records, the
// `kubernetes` Service from a pod, service environment variables, port-forward to a Service and the
// services/proxy subresource, and nothing of tinykube's left on the host after it stops.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { portForward, startCluster, type Cluster, untilValue } from './harness.ts';

const node = `svc-${process.pid}`;
let c: Cluster;

function sh(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: String(stdout) + String(stderr) })));
}

/** untilValue on this file's cluster. */
const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => untilValue(c, what, fn, ms);

/** Runs a shell line in the client pod; returns its output and exit code (kubectl's own failures included). */
async function inClient(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return c.kubectl(['exec', 'client', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
}

const backend = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    imagePullPolicy: IfNotPresent
    # index.html names the backend; cgi-bin/ip answers the address the connection came from; ready.html
    # is what the readiness probe reads (removing it takes the pod out of rotation).
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && echo ${name} > /www/index.html && echo ok > /www/ready.html && printf '#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\necho $REMOTE_ADDR\\\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www"]
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      httpGet: {path: /ready.html, port: http}
      periodSeconds: 1
      failureThreshold: 1
`;

const services = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 8081, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  selector: {app: nothing-has-this}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: web.default.svc.cluster.local
`;

const client = `apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
`;

/** Which backends answered n GETs of url from the client pod (one name per line). */
async function spread(url: string, n: number): Promise<Map<string, number>> {
  const r = await inClient(`for i in $(seq ${n}); do timeout 5 wget -qO- ${url} || echo FAILED; done`);
  const counts = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

function httpGet(url: string): Promise<string> {
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
}

describe('Services on tinykube up', () => {
  before(async () => {
    c = await startCluster({ command: 'up', args: ['--name', node] });
    await c.k('apply', '-f', await c.writeFile('backends.yaml', `${backend('web-a')}---\n${backend('web-b')}`));
    await c.k('apply', '-f', await c.writeFile('services.yaml', services));
    // The client comes after the Services: its environment names them.
    await c.k('apply', '-f', await c.writeFile('client.yaml', client));
    await c.k('wait', '--for=condition=Ready', 'pod/web-a', 'pod/web-b', 'pod/client', '--timeout=90s');
  });
  after(async () => {
    await c?.stop();
  });

  it('spreads requests over both backends by every DNS name of the Service', async () => {
    for (const name of ['web.default.svc.cluster.local', 'web.default', 'web']) {
      const counts = await until(`both backends behind http://${name}`, async () => {
        const m = await spread(`http://${name}`, 50);
        return m.get('web-a') && m.get('web-b') && m.size === 2 ? m : undefined;
      });
      assert.equal((counts.get('web-a') ?? 0) + (counts.get('web-b') ?? 0), 50, `every request to ${name} answered`);
    }
  });

  it('takes an unready backend out of rotation and brings it back when it recovers', async (t) => {
    await c.k('exec', 'web-b', '--', 'rm', '/www/ready.html');
    await c.k('wait', '--for=condition=Ready=false', 'pod/web-b', '--timeout=30s');
    const unready = Date.now();
    await until('web-b out of rotation', async () => {
      const m = await spread('http://web', 20);
      return m.size === 1 && m.get('web-a') === 20;
    });
    // A figure, not an assertion (the issue asks for 2 s; machines are noisy): seen by kubectl → 20 requests all to web-a.
    t.diagnostic(`out of rotation ${Date.now() - unready} ms after kubectl saw Ready=False`);
    await c.k('exec', 'web-b', '--', 'sh', '-c', 'echo ok > /www/ready.html');
    await c.k('wait', '--for=condition=Ready', 'pod/web-b', '--timeout=30s');
    await until('web-b back in rotation', async () => {
      const m = await spread('http://web', 30);
      return Boolean(m.get('web-a') && m.get('web-b'));
    });
  });

  it('refuses a connection to a Service without endpoints at once', async () => {
    const r = await inClient('timeout 10 wget -qO- http://empty 2>&1; echo rc=$?');
    assert.match(r.stdout, /Connection refused/, r.stdout);
  });

  it('answers headless, SRV, ExternalName, pod and kube-dns records', async () => {
    const podIPs = (await c.k('get', 'pod', 'web-a', 'web-b', '-o', 'jsonpath={.items[*].status.podIP}')).trim().split(/\s+/).sort();
    const headless = await inClient('nslookup web-headless.default.svc.cluster.local');
    for (const ip of podIPs) assert.match(headless.stdout, new RegExp(`Address: ${ip.replaceAll('.', '\\.')}`), headless.stdout);
    const srv = await inClient('nslookup -type=SRV _http._tcp.web.default.svc.cluster.local');
    // busybox prints an SRV answer as "service = PRIORITY WEIGHT PORT TARGET".
    assert.match(srv.stdout, /service = \d+ \d+ 80 web\.default\.svc\.cluster\.local/, srv.stdout);
    const headlessSrv = await inClient('nslookup -type=SRV _http._tcp.web-headless.default.svc.cluster.local');
    for (const ip of podIPs) assert.match(headlessSrv.stdout, new RegExp(`service = \\d+ \\d+ 8080 ${ip.replaceAll('.', '-')}\\.web-headless\\.default\\.svc\\.cluster\\.local`), headlessSrv.stdout);
    const ext = await inClient('nslookup -type=CNAME ext.default.svc.cluster.local');
    assert.match(ext.stdout, /canonical name = web\.default\.svc\.cluster\.local/, ext.stdout);
    const dashed = podIPs[0].replaceAll('.', '-');
    const podRecord = await inClient(`nslookup ${dashed}.default.pod.cluster.local`);
    assert.match(podRecord.stdout, new RegExp(`Address: ${podIPs[0].replaceAll('.', '\\.')}`), podRecord.stdout);
    const missing = await inClient('nslookup nothing-here.default.svc.cluster.local; echo rc=$?');
    assert.match(missing.stdout + missing.stderr, /NXDOMAIN|can't find/, missing.stdout);
    // The pod's resolv.conf is ClusterFirst's.
    const resolv = await c.k('exec', 'client', '--', 'cat', '/etc/resolv.conf');
    assert.match(resolv, /^nameserver 10\.43\.0\.10$/m);
    assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
    assert.match(resolv, /^options ndots:5$/m);
  });

  it('reaches the kubernetes Service from a pod on 443', async () => {
    const r = await inClient('timeout 10 nc kubernetes.default.svc 443 </dev/null; echo rc=$?');
    assert.match(r.stdout, /rc=0/, `connect to kubernetes.default.svc:443: ${r.stdout}${r.stderr}`);
  });

  it('gives a pod created after the Services their environment variables', async () => {
    const env = await c.k('exec', 'client', '--', 'env');
    const ip = (await c.k('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    assert.match(env, new RegExp(`^WEB_SERVICE_HOST=${ip.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(env, /^WEB_SERVICE_PORT=80$/m);
    assert.match(env, /^WEB_SERVICE_PORT_HTTP=80$/m);
    assert.match(env, new RegExp(`^WEB_PORT_80_TCP=tcp://${ip.replaceAll('.', '\\.')}:80$`, 'm'));
    assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.43\.0\.1$/m);
  });

  it('serves NodePort and LoadBalancer ports from the host', async () => {
    const nodeIP = (await c.k('get', 'node', node, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')).trim();
    const nodePort = (await c.k('get', 'svc', 'web-np', '-o', 'jsonpath={.spec.ports[0].nodePort}')).trim();
    assert.match(await httpGet(`http://${nodeIP}:${nodePort}/`), /^web-[ab]\n$/);
    const ingress = await until('the LoadBalancer ingress address', async () => (await c.k('get', 'svc', 'web-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).trim() || undefined);
    assert.equal(ingress, nodeIP);
    assert.match(await httpGet(`http://${ingress}:8081/`), /^web-[ab]\n$/);
  });

  it('keeps the client address with externalTrafficPolicy Local, and masquerades with Cluster', async () => {
    // An "outside" client: a network namespace of this test's own, linked to the host by a veth pair.
    const ns = `tksvc${process.pid}`;
    const host = `tkh${process.pid}`.slice(0, 15);
    const octet = 1 + (process.pid % 250);
    const [hostAddr, clientAddr] = [`10.251.${octet}.1`, `10.251.${octet}.2`];
    const must = async (cmd: string, args: string[]) => {
      const r = await sh(cmd, args);
      assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.out}`);
    };
    try {
      await must('ip', ['netns', 'add', ns]);
      await must('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await must('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', host]);
      await must('ip', ['link', 'set', host, 'up']);
      await must('ip', ['-n', ns, 'addr', 'add', `${clientAddr}/30`, 'dev', 'eth0']);
      await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const get = async (svc: string) => {
        const port = (await c.k('get', 'svc', svc, '-o', 'jsonpath={.spec.ports[0].nodePort}')).trim();
        const r = await sh('ip', ['netns', 'exec', ns, 'timeout', '10', 'busybox', 'wget', '-qO-', `http://${hostAddr}:${port}/cgi-bin/ip`]);
        assert.equal(r.code, 0, `GET ${svc} from outside: ${r.out}`);
        // busybox httpd listens on IPv6 and reports an IPv4 peer as [::ffff:a.b.c.d].
        return r.out.trim().replace(/^\[(?:::ffff:)?(.*)\]$/, '$1');
      };
      assert.equal(await get('web-local'), clientAddr, 'Local policy: the backend sees the client');
      assert.notEqual(await get('web-np'), clientAddr, 'Cluster policy: the source is masqueraded');
    } finally {
      await sh('ip', ['link', 'del', host]);
      await sh('ip', ['netns', 'del', ns]);
    }
  });

  it('forwards a local port to the Service and proxies through the API server', async () => {
    const raw = await c.k('get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/');
    assert.match(raw, /^web-[ab]\n$/);
    const pf = await portForward(c, 'svc/web', 80, 8080);
    try {
      assert.match(await httpGet(`http://127.0.0.1:${pf.port}/`), /^web-[ab]\n$/);
    } finally {
      pf.close();
    }
  });

  it('leaves no table, address or DNS listener behind when it stops', async () => {
    assert.equal((await sh('nft', ['list', 'table', 'ip', 'tinykube-proxy'])).code, 0, 'the proxy table exists while up runs');
    assert.equal((await sh('ip', ['link', 'show', 'tinykube-dns'])).code, 0, 'the DNS link exists while up runs');
    await c.stop();
    assert.notEqual((await sh('nft', ['list', 'table', 'ip', 'tinykube-proxy'])).code, 0, 'no proxy table after stop');
    assert.notEqual((await sh('ip', ['link', 'show', 'tinykube-dns'])).code, 0, 'no DNS link after stop');
    const listeners = await sh('ss', ['-lnup']);
    assert.doesNotMatch(listeners.out, /10\.43\.0\.10:53\b/);
  });
});
