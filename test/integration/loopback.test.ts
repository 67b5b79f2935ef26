// The control plane's loopback connections (controlplane.ts): clients in the server's own process
// reach the same API over plain HTTP on a socket only that process knows. Requests are still
// authenticated by their tokens (the socket itself grants nothing), watches and writes work as over
// HTTPS, and the socket is gone once the control plane is closed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { isApiError } from '../../src/client/errors.ts';
import { ConfigMaps } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string; groups?: string[] } };
}

describe('loopback connections of the control plane', () => {
  let dir: string;
  let cp: ControlPlane;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tk-loopback-'));
    cp = await startControlPlane({ dataDir: join(dir, 'server'), listen: '127.0.0.1:0', advertiseAddress: false, prepareOpenAPI: false });
  });

  after(async () => {
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const loopbackClient = (token?: string) => new ApiClient({ server: cp.url, token, userAgent: 'loopback-test' }, cp.loopbackTransport());

  test('a request is authenticated by its token, as over HTTPS', async () => {
    const client = loopbackClient(cp.componentToken('system:kube-controller-manager'));
    const review = await client.requestJson<SelfSubjectReview>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    assert.equal(review.status?.userInfo?.username, 'system:kube-controller-manager');
    assert.deepEqual(review.status?.userInfo?.groups, ['system:authenticated']);
  });

  test('without a token the request is refused as an unauthenticated one: the socket grants nothing', async () => {
    const client = loopbackClient();
    await assert.rejects(client.list(ConfigMaps, 'default'), (err: unknown) => {
      assert.ok(isApiError(err), String(err));
      assert.equal(err.code, 401);
      assert.equal(err.message, 'Unauthorized');
      return true;
    });
    await assert.rejects(loopbackClient('not-a-token').list(ConfigMaps, 'default'), (err: unknown) => isApiError(err) && err.code === 401);
  });

  test('writes and watches go through it, and the HTTPS listener sees the same objects', async () => {
    const client = loopbackClient(cp.pki.adminToken);
    const https = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.adminToken });
    try {
      const watch = await client.watch<ConfigMap>(ConfigMaps, 'default', { fieldSelector: 'metadata.name=over-loopback' });
      const seen = (async () => {
        for await (const ev of watch) if (ev.type === 'ADDED') return ev.object;
        return undefined;
      })();
      const created = await https.create<ConfigMap>(ConfigMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-loopback' }, data: { a: '1' } });
      const event = await seen;
      watch.close();
      assert.equal(event?.metadata?.uid, created.metadata?.uid);
      const updated = await client.patch<ConfigMap>(ConfigMaps, 'default', 'over-loopback', 'merge', { data: { a: '2' } });
      assert.equal((await https.get<ConfigMap>(ConfigMaps, 'default', 'over-loopback')).metadata?.resourceVersion, updated.metadata?.resourceVersion);
    } finally {
      https.close();
    }
  });

  test('closing the control plane closes the socket', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'tk-loopback-'));
    const cp2 = await startControlPlane({ dataDir: join(dir2, 'server'), listen: '127.0.0.1:0', advertiseAddress: false, prepareOpenAPI: false });
    try {
      const client = new ApiClient({ server: cp2.url, token: cp2.pki.adminToken }, cp2.loopbackTransport());
      await client.list(ConfigMaps, 'default');
      await cp2.close();
      await assert.rejects(client.list(ConfigMaps, 'default'));
    } finally {
      await cp2.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
