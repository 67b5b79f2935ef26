import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Secret } from '../../../api/types.ts';
import { authFor, nodeAuths, resolvePullAuth } from './auth.ts';
import { parseRegistries } from './config.ts';
import { dockerConfigFromSecret, DockerKeyring, keyMatchesImage, keyringKey, PullSecretError } from './keyring.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A pull secret as the API returns it (data base64-encoded). */
function pullSecret(name: string, auths: Record<string, Record<string, string>>, type = 'kubernetes.io/dockerconfigjson'): Secret {
  const body = type === 'kubernetes.io/dockercfg' ? auths : { auths };
  const key = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type, data: { [key]: b64(JSON.stringify(body)) } };
}

test('keyring keys: schemes dropped, /v1/ and /v2/ mean the host', () => {
  const cases: [string, string][] = [
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['http://reg:5000', 'reg:5000'],
    ['reg:5000/v2/team', 'reg:5000/team'],
    ['quay.io/team/', 'quay.io/team/'],
    ['*.example.com', '*.example.com'],
  ];
  for (const [loc, key] of cases) assert.equal(keyringKey(loc), key, loc);
});

test('key matching follows the kubelet: labels glob, ports equal, path prefix', () => {
  const cases: [string, string, boolean][] = [
    ['docker.io', 'docker.io/library/busybox', true],
    ['*.example.com', 'reg.example.com/a/b', true],
    ['*.example.com', 'example.com/a', false], // label count differs
    ['*.example.com', 'a.b.example.com/a', false],
    ['reg.*.com', 'reg.example.com/x', true],
    ['reg:5000', 'reg:5000/x', true],
    ['reg:5000', 'reg/x', false],
    ['reg', 'reg:5000/x', false],
    ['quay.io/team', 'quay.io/team/app', true],
    ['quay.io/team', 'quay.io/teamster/app', true], // a string prefix, as in Kubernetes
    ['quay.io/team', 'quay.io/other/app', false],
    ['Quay.io', 'quay.io/x', false], // filepath.Match is case-sensitive
    ['127.0.0.1:5000', '127.0.0.1:5000/library/busybox', true],
  ];
  for (const [key, image, want] of cases) assert.equal(keyMatchesImage(key, image), want, `${key} vs ${image}`);
});

test('lookup: most specific key first, every matching key contributes, Docker Hub fallback', () => {
  const k = DockerKeyring.fromSecrets([
    pullSecret('a', { 'quay.io': { username: 'host', password: '1' }, 'quay.io/team': { username: 'team', password: '2' } }),
    pullSecret('b', { 'https://index.docker.io/v1/': { auth: b64('hub:3') } }),
    pullSecret('c', { '*.corp.example': { username: 'wild', password: '4' } }),
  ]);
  assert.deepEqual(k.lookup('quay.io/team/app:1').map((c) => c.username), ['team', 'host']);
  assert.deepEqual(k.lookup('quay.io/else/app').map((c) => c.username), ['host']);
  assert.deepEqual(k.lookup('busybox').map((c) => [c.username, c.password]), [['hub', '3']]);
  assert.deepEqual(k.lookup('docker.io/library/busybox:1.36').map((c) => c.username), ['hub']);
  assert.deepEqual(k.lookup('reg.corp.example/app').map((c) => c.username), ['wild']);
  assert.deepEqual(k.lookup('ghcr.io/x/y'), []);
});

test('secrets: legacy dockercfg read; other types and empty data ignored; broken JSON is an error', () => {
  const legacy = dockerConfigFromSecret(pullSecret('l', { 'reg:5000': { username: 'u', password: 'p', email: 'e@x' } }, 'kubernetes.io/dockercfg'));
  assert.deepEqual([...legacy!], [['reg:5000', { username: 'u', password: 'p', email: 'e@x' }]]);
  assert.equal(dockerConfigFromSecret({ type: 'Opaque', data: { '.dockerconfigjson': b64('{}') } }), undefined);
  assert.equal(dockerConfigFromSecret({ type: 'kubernetes.io/dockerconfigjson', data: {} }), undefined);
  // A dockerconfigjson key in a dockercfg-typed secret is not read (the kubelet checks type and key together).
  assert.equal(dockerConfigFromSecret({ type: 'kubernetes.io/dockercfg', data: { '.dockerconfigjson': b64('{}') } }), undefined);
  const broken: Secret = { metadata: { name: 's', namespace: 'ns' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths": ') } };
  assert.throws(() => dockerConfigFromSecret(broken), (e: unknown) => e instanceof PullSecretError && e.code === 'ERR_PULL_SECRET_INVALID' && /ns\/s: \.dockerconfigjson is not JSON/.test(e.message));
  const badAuth = pullSecret('x', { reg: { auth: b64('nocolon') } });
  assert.throws(() => dockerConfigFromSecret(badAuth), /auth must be base64 of "username:password"/);
});

const registries = parseRegistries(`
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "https://m2.example"]
configs:
  "127.0.0.1:5000":
    auth: { username: mirror, password: m }
  docker.io:
    auth: { auth: ${b64('hub:h')} }
  "reg.example:5000":
    auth: { identitytoken: tok }
`);

test('node credentials: one per endpoint containerd contacts, each bound to its host', () => {
  assert.deepEqual(nodeAuths(registries, 'busybox'), [
    { serverAddress: 'http://127.0.0.1:5000', username: 'mirror', password: 'm' },
    // configs.docker.io reaches the host containerd really contacts for Docker Hub
    { serverAddress: 'https://registry-1.docker.io', auth: b64('hub:h') },
  ]);
  assert.deepEqual(authFor(registries, 'docker.io/library/busybox:latest'), { serverAddress: 'http://127.0.0.1:5000', username: 'mirror', password: 'm' });
  assert.deepEqual(authFor(registries, 'reg.example:5000/app'), { serverAddress: 'https://reg.example:5000', identityToken: 'tok' });
  assert.equal(authFor(registries, 'quay.io/app'), undefined);
  assert.equal(authFor(undefined, 'busybox'), undefined);
  assert.equal(authFor(registries, 'Not A Ref'), undefined);
});

test('resolvePullAuth: secrets first (no server address), then node credentials, without duplicates', () => {
  const secrets = [
    pullSecret('a', { 'docker.io': { username: 's1', password: 'x' } }),
    pullSecret('b', { 'docker.io': { username: 's1', password: 'x' }, 'quay.io': { username: 'q', password: 'y' } }),
  ];
  assert.deepEqual(resolvePullAuth('busybox', { secrets, registries }), [
    { username: 's1', password: 'x' },
    { serverAddress: 'http://127.0.0.1:5000', username: 'mirror', password: 'm' },
    { serverAddress: 'https://registry-1.docker.io', auth: b64('hub:h') },
  ]);
  assert.deepEqual(resolvePullAuth('quay.io/app', { secrets, registries }), [{ username: 'q', password: 'y' }]);
  assert.deepEqual(resolvePullAuth('ghcr.io/app', { secrets, registries }), []);
  assert.deepEqual(resolvePullAuth('ghcr.io/app', {}), []);
});
