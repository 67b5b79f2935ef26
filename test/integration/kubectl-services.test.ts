// Services through the real kubectl against an in-process API server: the bootstrap Services,
// `kubectl create service clusterip|nodeport|loadbalancer|externalname`, `kubectl expose pod` and
// `expose deployment`, `get svc -o wide` cell by cell, kube-apiserver's 422 messages for addresses and
// ports out of range or taken, a changed clusterIP, a repeated port name and an unsupported protocol,
// and the allocators' bookkeeping (a dry run and a refused create leave nothing claimed; a deleted
// Service's address is free again).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';
import type { Service } from '../../src/api/types.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A table as rows of cells (kubectl separates columns by at least three spaces; no cell here holds two). */
function cells(table: string, dropColumn: string): string[][] {
  const rows = table.trimEnd().split('\n').map((l) => l.trim().split(/\s{2,}/));
  const at = rows[0].indexOf(dropColumn);
  return rows.map((r) => r.filter((_, i) => i !== at));
}

async function service(name: string, ns = 'default'): Promise<Service> {
  return (await cp.registry.store('services').get(ns, name)) as Service;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-svc-'));
  cp = await startControlPlane({ dataDir: join(dir, 'data'), listen: '127.0.0.1:0' });
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl and Services', () => {
  it('the cluster starts with default/kubernetes and kube-system/kube-dns', async () => {
    assert.deepEqual(cells(await ok(['get', 'svc', '-A']), 'AGE'), [
      ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)'],
      ['default', 'kubernetes', 'ClusterIP', '10.43.0.1', '<none>', '443/TCP'],
      ['kube-system', 'kube-dns', 'ClusterIP', '10.43.0.10', '<none>', '53/UDP,53/TCP'],
    ]);
    const k = await service('kubernetes');
    assert.deepEqual(k.spec?.ports, [{ name: 'https', protocol: 'TCP', port: 443, targetPort: cp.port }]);
    assert.deepEqual(k.metadata?.labels, { component: 'apiserver', provider: 'kubernetes' });
    assert.equal(k.spec?.selector, undefined);
    const dns = await service('kube-dns', 'kube-system');
    assert.equal(dns.spec?.internalTrafficPolicy, 'Local');
    assert.equal(dns.spec?.selector, undefined);
    // Each node's own DNS serves the address (src/dns/node-address.ts); the node proxy keeps off it.
    assert.equal(dns.metadata?.labels?.['service.kubernetes.io/service-proxy-name'], 'tinykube-node-dns');
  });

  it('create service, expose pod and deployment, get svc -o wide', async () => {
    await ok(['run', 'web', '--image=busybox', '--port=8080']);
    await ok(['create', 'deployment', 'api', '--image=busybox', '--port=9000']);
    const made = [
      ['create', 'service', 'clusterip', 'cip', '--tcp=80:8080', '--clusterip=10.43.0.20'],
      ['create', 'service', 'nodeport', 'np', '--tcp=8080:80', '--node-port=30080'],
      ['create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443'],
      ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
      ['expose', 'pod', 'web', '--port=80', '--target-port=8080'],
      ['expose', 'deployment', 'api', '--port=80', '--target-port=9000', '--type=NodePort'],
    ];
    const said = [];
    for (const args of made) said.push((await ok(args)).trim());
    assert.deepEqual(said, ['service/cip created', 'service/np created', 'service/lb created', 'service/ext created', 'service/web exposed', 'service/api exposed']);

    const web = await service('web');
    assert.deepEqual(web.spec?.selector, { run: 'web' });
    assert.deepEqual(web.spec?.ports, [{ protocol: 'TCP', port: 80, targetPort: 8080 }]);
    const api = await service('api');
    const lb = await service('lb');
    const np = await service('np');
    const ip = (s: Service) => s.spec!.clusterIP!;
    const nodePort = (s: Service) => s.spec!.ports![0].nodePort!;
    assert.ok(nodePort(api) >= 30000 && nodePort(api) <= 32767);
    assert.equal(nodePort(np), 30080);
    assert.deepEqual(cells(await ok(['get', 'svc', '-o', 'wide']), 'AGE'), [
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'SELECTOR'],
      ['api', 'NodePort', ip(api), '<none>', `80:${nodePort(api)}/TCP`, 'app=api'],
      ['cip', 'ClusterIP', '10.43.0.20', '<none>', '80/TCP', 'app=cip'],
      ['ext', 'ExternalName', '<none>', 'example.com', '<none>', 'app=ext'],
      ['kubernetes', 'ClusterIP', '10.43.0.1', '<none>', '443/TCP', '<none>'],
      ['lb', 'LoadBalancer', ip(lb), '<pending>', `443:${nodePort(lb)}/TCP`, 'app=lb'],
      ['np', 'NodePort', ip(np), '<none>', '8080:30080/TCP', 'app=np'],
      ['web', 'ClusterIP', ip(web), '<none>', '80/TCP', 'run=web'],
    ]);

    // Field selectors kube-proxy and the kubelet use to leave headless Services out.
    assert.deepEqual((await ok(['get', 'svc', '-A', '--field-selector=spec.type=NodePort', '-o', 'name'])).trim().split('\n'), ['service/api', 'service/np']);
    assert.equal((await ok(['get', 'svc', '-A', '--field-selector=spec.clusterIP=10.43.0.10', '-o', 'name'])).trim(), 'service/kube-dns');

    // A load balancer's status (as k3s' ServiceLB writes the nodes' addresses) fills EXTERNAL-IP.
    await ok(['patch', 'svc', 'lb', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.168.9.2"},{"ip":"192.168.9.1"}]}}}']);
    assert.deepEqual(cells(await ok(['get', 'svc', 'lb']), 'AGE'), [
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)'],
      ['lb', 'LoadBalancer', ip(lb), '192.168.9.1,192.168.9.2', `443:${nodePort(lb)}/TCP`],
    ]);
  });

  it('refuses what kube-apiserver refuses, with its messages', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  selector: {app: x}\n  ports:\n  - {name: http, port: 80}\n  - {name: http, port: 81, protocol: HTTP}\n',
    );
    const cases: { args: string[]; stderr: string }[] = [
      {
        args: ['create', 'service', 'clusterip', 'out', '--tcp=80:80', '--clusterip=10.0.0.1'],
        stderr: 'error: failed to create ClusterIP service: Service "out" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
      },
      {
        args: ['create', 'service', 'clusterip', 'taken', '--tcp=80:80', '--clusterip=10.43.0.20'],
        stderr: 'error: failed to create ClusterIP service: Service "taken" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.20"}: failed to allocate IP 10.43.0.20: provided IP is already allocated',
      },
      {
        args: ['create', 'service', 'nodeport', 'np2', '--tcp=8080:80', '--node-port=30080'],
        stderr: 'error: failed to create NodePort service: Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
      },
      {
        args: ['create', 'service', 'nodeport', 'np3', '--tcp=8080:80', '--node-port=8080'],
        stderr: 'error: failed to create NodePort service: Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
      },
      {
        args: ['patch', 'svc', 'cip', '-p', '{"spec":{"clusterIP":"10.43.0.21"}}'],
        stderr: 'The Service "cip" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.43.0.21"}: may not change once set',
      },
      {
        args: ['create', '-f', bad],
        stderr: `The Service "bad" is invalid: \n* spec.ports[1].name: Duplicate value: "http"\n* spec.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
      },
      {
        args: ['create', 'service', 'clusterip', 'v6', '--tcp=80:80', '--clusterip=fd00::1'],
        stderr: 'error: failed to create ClusterIP service: Service "v6" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::1"}: IPv6 is not configured on this cluster',
      },
    ];
    for (const c of cases) {
      const r = await kubectl(c.args);
      assert.equal(r.code, 1, c.args.join(' '));
      assert.equal(r.stderr.trim(), c.stderr, c.args.join(' '));
    }
  });

  it('dry runs and refused creates claim nothing; a deleted Service gives its address back', async () => {
    assert.equal((await ok(['create', 'service', 'clusterip', 'dry', '--tcp=80:80', '--clusterip=10.43.0.30', '--dry-run=server'])).trim(), 'service/dry created (server dry run)');
    assert.equal((await ok(['create', 'service', 'clusterip', 'real', '--tcp=80:80', '--clusterip=10.43.0.30'])).trim(), 'service/real created');
    // The nodeport create refused above (port taken) claimed an address first: it was given back.
    const claimed = (await cp.backend.list('/registry/networking.k8s.io/ipaddresses/')).items.length;
    const stored = ((await cp.registry.store('services').list({})).items as Service[]).filter((s) => s.spec?.clusterIP && s.spec.clusterIP !== 'None').length;
    assert.equal(claimed, stored, 'one claim per Service address');
    await ok(['delete', 'svc', 'cip']);
    assert.equal((await ok(['create', 'service', 'clusterip', 'cip2', '--tcp=80:80', '--clusterip=10.43.0.20'])).trim(), 'service/cip2 created');
    // NodePort → ClusterIP gives the node port back: another Service may take it.
    await ok(['patch', 'svc', 'np', '--type=merge', '-p', '{"spec":{"type":"ClusterIP"}}']);
    assert.equal((await service('np')).spec?.ports?.[0].nodePort, undefined);
    assert.equal((await ok(['create', 'service', 'nodeport', 'np4', '--tcp=8080:80', '--node-port=30080'])).trim(), 'service/np4 created');
  });

  it('apply (client- and server-side) keeps the allocated address; describe shows the Service', async () => {
    const file = join(dir, 'app.yaml');
    const manifest = (extra: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  selector: {app: app}\n  ports:\n  - {name: http, port: 80, targetPort: 8080}\n${extra}`;
    writeFileSync(file, manifest(''));
    assert.equal((await ok(['apply', '-f', file])).trim(), 'service/app created');
    const first = (await service('app')).spec!.clusterIP;
    writeFileSync(file, manifest('  - {name: metrics, port: 9100}\n'));
    assert.equal((await ok(['apply', '-f', file])).trim(), 'service/app configured');
    assert.equal((await service('app')).spec!.clusterIP, first);
    assert.deepEqual((await service('app')).spec!.ports!.map((p) => p.name), ['http', 'metrics']);
    writeFileSync(file, manifest('  - {name: metrics, port: 9100}\n  type: NodePort\n'));
    assert.equal((await ok(['apply', '--server-side', '--force-conflicts', '-f', file])).trim(), 'service/app serverside-applied');
    const np = await service('app');
    assert.equal(np.spec!.clusterIP, first);
    assert.ok(np.spec!.ports!.every((p) => p.nodePort! >= 30000), 'NodePort by apply allocates node ports');
    const described = await ok(['describe', 'svc', 'app']);
    for (const line of [/^Name:\s+app$/m, /^Type:\s+NodePort$/m, new RegExp(`^IP:\\s+${first!.replace(/\./g, '\\.')}$`, 'm'), /^IP Family Policy:\s+SingleStack$/m, /^IP Families:\s+IPv4$/m, /^Selector:\s+app=app$/m]) {
      assert.match(described, line);
    }
  });
});
