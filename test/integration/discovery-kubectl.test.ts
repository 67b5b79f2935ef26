// The real kubectl against an in-process API server for what discovery and /openapi/v2 serve:
// `get --raw /openapi/v2` is the Swagger 2.0 JSON, `explain --output=plaintext-openapiv2` reads it as
// protobuf, `api-resources` lists events.k8s.io events, and `get events.events.k8s.io` prints the
// core events table for an event written through core/v1.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/client/client.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const kubectlBin = process.env.KUBECTL ?? '/usr/bin/kubectl';
let dir: string;
let cp: ControlPlane;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-disco-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  const client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'discovery-test' });
  await client.create({ apiVersion: 'v1', resource: 'events' }, 'default', {
    metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Pulled', message: 'Container image pulled', type: 'Normal', source: { component: 'kubelet', host: 'n1' },
  });
  client.close();
});

after(async () => {
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl: discovery and /openapi/v2', { timeout: 120_000 }, () => {
  it('get --raw /openapi/v2 is the Swagger 2.0 JSON document', async () => {
    const r = await kubectl(['get', '--raw', '/openapi/v2']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { swagger: string; info: { title: string }; definitions: Record<string, unknown> };
    assert.equal(doc.swagger, '2.0');
    assert.equal(doc.info.title, 'Kubernetes');
    assert.ok(doc.definitions['io.k8s.api.events.v1.Event']);
  });

  it('explain --output=plaintext-openapiv2 describes pods', async () => {
    const r = await kubectl(['explain', 'pods', '--output=plaintext-openapiv2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n/);
    assert.match(r.stdout, /Pod is a collection of containers that can run on a host\./);
  });

  it('api-resources lists events in both groups, with storage version hashes in discovery', async () => {
    const r = await kubectl(['api-resources', '--no-headers']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^events\s+ev\s+v1\s+true\s+Event$/m);
    assert.match(r.stdout, /^events\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event$/m);
    const legacy = JSON.parse((await kubectl(['get', '--raw', '/apis/events.k8s.io/v1'])).stdout) as { resources: Array<{ name: string; storageVersionHash?: string }> };
    assert.equal(legacy.resources.find((x) => x.name === 'events')?.storageVersionHash, 'r2yiGXH7wu8=');
  });

  it('get events.events.k8s.io prints the core events table for a core event', async () => {
    const r = await kubectl(['get', 'events.events.k8s.io', '-n', 'default']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    assert.match(r.stdout, /Normal\s+Pulled\s+pod\/web\s+Container image pulled/);
    const yaml = await kubectl(['get', 'events.v1.events.k8s.io', 'web.1', '-n', 'default', '-o', 'jsonpath={.note}|{.regarding.name}|{.deprecatedSource.host}']);
    assert.equal(yaml.stdout, 'Container image pulled|web|n1');
  });
});
