// The tokens controller against a real control plane: a kubernetes.io/service-account-token Secret
// (the walkthrough's `default-token-zh8ch`) is filled in with a legacy token, the CA and the
// namespace; the token authenticates as the account until its Secret is deleted; a token Secret of a
// missing account, and the token Secrets of a deleted account, are deleted.

import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import type { Secret, ServiceAccount } from '../../src/api/types.ts';
import { Secrets, ServiceAccounts } from '../../src/client/resources.ts';
import { startHarness, type Harness } from './controllers-harness.ts';

let h: Harness;

before(async () => {
  h = await startHarness({ nodeLifecycle: false, garbageCollector: false, podGC: false, legacyTokenSigner: (ns, sa, secret) => h.cp.serviceAccountTokens.issueLegacy(ns, sa, secret) });
});

after(async () => {
  await h?.close();
});

/** Who the API server says the bearer of `token` is, or the HTTP status when it refuses. */
function whoami(token: string): Promise<string | number> {
  const u = new URL(h.cp.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', method: 'POST', ca: h.cp.pki.caCertPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 201) return resolve(res.statusCode ?? 0);
        resolve((JSON.parse(Buffer.concat(chunks).toString()) as { status: { userInfo: { username: string } } }).status.userInfo.username);
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
  });
}

const tokenSecret = (name: string, account: string): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, annotations: { 'kubernetes.io/service-account.name': account } },
  type: 'kubernetes.io/service-account-token',
});

test('a service-account-token Secret is filled in, works while it exists, and goes with its account', async () => {
  const secrets = await h.watch<Secret>(Secrets, 'default');
  await h.client.create<ServiceAccount>(ServiceAccounts, 'default', { metadata: { name: 'builder' } });
  const account = await h.client.get<ServiceAccount>(ServiceAccounts, 'default', 'builder');
  await h.client.create<Secret>(Secrets, 'default', tokenSecret('builder-token-zh8ch', 'builder'));
  const filled = (await secrets.until((all) => all.some((s) => s.metadata?.name === 'builder-token-zh8ch' && s.data?.token), 'the token filled in')).find((s) => s.metadata?.name === 'builder-token-zh8ch')!;
  assert.equal(filled.metadata?.annotations?.['kubernetes.io/service-account.uid'], account.metadata?.uid);
  assert.equal(Buffer.from(filled.data!['ca.crt']!, 'base64').toString(), h.cp.pki.caCertPem);
  assert.equal(Buffer.from(filled.data!.namespace!, 'base64').toString(), 'default');
  const token = Buffer.from(filled.data!.token!, 'base64').toString();
  assert.equal(await whoami(token), 'system:serviceaccount:default:builder');

  // Deleting the Secret revokes its token.
  await h.client.delete(Secrets, 'default', 'builder-token-zh8ch');
  await secrets.until((all) => !all.some((s) => s.metadata?.name === 'builder-token-zh8ch'), 'the secret gone');
  assert.equal(await whoami(token), 401);

  // A token Secret of an account that does not exist is deleted; so are a deleted account's.
  await h.client.create<Secret>(Secrets, 'default', tokenSecret('ghost-token', 'ghost'));
  await h.client.create<Secret>(Secrets, 'default', tokenSecret('builder-token-second', 'builder'));
  await secrets.until((all) => !all.some((s) => s.metadata?.name === 'ghost-token') && all.some((s) => s.metadata?.name === 'builder-token-second' && s.data?.token), 'ghost-token deleted, the second filled in');
  await h.client.delete(ServiceAccounts, 'default', 'builder');
  await secrets.until((all) => !all.some((s) => s.metadata?.name === 'builder-token-second'), "the deleted account's token secret deleted");
});
