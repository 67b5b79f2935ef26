// downwardAPI and projected volumes through the VolumeManager, with MapConfigSource.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, Volume } from '../../api/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { ApiError } from '../../client/errors.ts';
import { fsUser, tokenKey, tokenNeedsRenewal, VolumeError, VolumeManager, type HeldToken } from './manager.ts';
import { MapConfigSource, type TokenOutcome } from './sources.ts';

function podWith(volumes: Volume[], labels: Record<string, string> = { app: 'web' }): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-1', labels, annotations: { owner: 'team "a"' } },
    spec: { containers: [{ name: 'app', resources: { limits: { cpu: '250m' }, requests: { memory: '32Mi' } } }], volumes },
  };
}

let dir = '';
let src: MapConfigSource;
let clock: FakeClock;
let vm: VolumeManager;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tk-proj-'));
  src = new MapConfigSource();
  clock = new FakeClock();
  vm = new VolumeManager({ root: dir, source: src, mounts: false, node: { cpuMilli: 2000, memoryBytes: 2 ** 30 }, clock });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const read = (base: string, p: string) => readFileSync(join(base, p), 'utf8');
const mode = (base: string, p: string) => statSync(join(base, p)).mode & 0o777;

describe('downwardAPI volumes', () => {
  const volume: Volume = {
    name: 'info',
    downwardAPI: {
      defaultMode: 0o640,
      items: [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' }, mode: 0o600 },
        { path: 'meta/app', fieldRef: { fieldPath: "metadata.labels['app']" } },
        { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
        { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
        { path: 'mem_request', resourceFieldRef: { containerName: 'app', resource: 'requests.memory', divisor: '1Mi' } },
      ],
    },
  };

  it('writes each item as the kubelet renders it, with defaultMode and per-item modes', async () => {
    const v = (await vm.setUp(podWith([volume]))).get('info')!;
    assert.equal(v.readOnly, true);
    assert.equal(v.hostPath, join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~downward-api', 'info'));
    const want: [string, string, number][] = [
      ['name', 'p', 0o640],
      ['labels', 'app="web"', 0o640],
      ['annotations', 'owner="team \\"a\\""', 0o600],
      ['meta/app', 'web', 0o640],
      ['cpu_limit', '250', 0o640],
      // Unset: the node's allocatable.
      ['mem_limit', '1024', 0o640],
      ['mem_request', '32', 0o640],
    ];
    for (const [p, content, m] of want) {
      assert.equal(read(v.hostPath, p), content, p);
      assert.equal(mode(v.hostPath, p), m, p);
    }
    assert.equal(readlinkSync(join(v.hostPath, 'labels')), '..data/labels');
  });

  it('swaps a new ..data in when the labels change, and only then', async () => {
    const v = (await vm.setUp(podWith([volume]))).get('info')!;
    const first = readlinkSync(join(v.hostPath, '..data'));
    await vm.setUp(podWith([volume]));
    assert.equal(readlinkSync(join(v.hostPath, '..data')), first, 'unchanged content is not rewritten');
    await vm.setUp(podWith([volume], { app: 'web', release: 'canary' }));
    const second = readlinkSync(join(v.hostPath, '..data'));
    assert.notEqual(second, first);
    assert.equal(read(v.hostPath, 'labels'), 'app="web"\nrelease="canary"');
    assert.ok(!existsSync(join(v.hostPath, first)), 'the old timestamped dir is removed');
    assert.deepEqual(readdirSync(v.hostPath).filter((e) => e.startsWith('..')).sort(), ['..data', second].sort());
  });

  const bad: { name: string; item: NonNullable<NonNullable<Volume['downwardAPI']>['items']>[number]; message: string }[] = [
    { name: 'an env-only field', item: { path: 'node', fieldRef: { fieldPath: 'spec.nodeName' } }, message: 'unsupported fieldPath: spec.nodeName' },
    { name: 'an unknown container', item: { path: 'c', resourceFieldRef: { containerName: 'nope', resource: 'limits.cpu' } }, message: 'container nope not found' },
    { name: 'an unknown resource', item: { path: 'c', resourceFieldRef: { containerName: 'app', resource: 'limits.gpu' } }, message: 'unsupported container resource : limits.gpu' },
  ];
  for (const b of bad) {
    it(`fails the mount for ${b.name}`, async () => {
      await assert.rejects(vm.setUp(podWith([{ name: 'd', downwardAPI: { items: [b.item] } }])), {
        name: 'VolumeError',
        message: `MountVolume.SetUp failed for volume "d" : ${b.message}`,
      });
    });
  }
});

describe('projected volumes', () => {
  const projected = (sources: NonNullable<Volume['projected']>['sources'], defaultMode?: number): Volume => ({ name: 'all', projected: { sources, defaultMode } });

  it('puts a secret, a configMap and the pod namespace into one atomic dir', async () => {
    src.secrets.set('ns/creds', { data: { user: Buffer.from('admin').toString('base64'), pass: Buffer.from('pw').toString('base64') } });
    src.configMaps.set('ns/cfg', { data: { 'app.conf': 'x=1' } });
    const v = (await vm.setUp(podWith([projected([
      { secret: { name: 'creds', items: [{ key: 'user', path: 'secret/user', mode: 0o400 }] } },
      { configMap: { name: 'cfg' } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ], 0o440)]))).get('all')!;
    assert.equal(v.hostPath, join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~projected', 'all'));
    assert.equal(read(v.hostPath, 'secret/user'), 'admin');
    assert.equal(mode(v.hostPath, 'secret/user'), 0o400);
    assert.ok(!existsSync(join(v.hostPath, 'secret/pass')), 'items select keys');
    assert.equal(read(v.hostPath, 'app.conf'), 'x=1');
    assert.equal(mode(v.hostPath, 'app.conf'), 0o440);
    assert.equal(read(v.hostPath, 'namespace'), 'ns');
    assert.equal(readlinkSync(join(v.hostPath, 'namespace')), '..data/namespace');
    // A key removed from the configMap disappears on the next refresh.
    src.configMaps.set('ns/cfg', { data: {} });
    await vm.setUp(podWith([projected([{ configMap: { name: 'cfg' } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }])]));
    assert.ok(!existsSync(join(v.hostPath, 'app.conf')));
    assert.equal(read(v.hostPath, 'namespace'), 'ns');
  });

  const missing: { name: string; sources: NonNullable<Volume['projected']>['sources']; message?: string }[] = [
    { name: 'optional secret and configMap are skipped', sources: [{ secret: { name: 'gone', optional: true } }, { configMap: { name: 'gone', optional: true, items: [{ key: 'k', path: 'k' }] } }] },
    { name: 'a missing secret fails', sources: [{ secret: { name: 'gone' } }], message: 'secret "gone" not found' },
    { name: 'a missing configMap fails', sources: [{ configMap: { name: 'gone' } }], message: 'configmap "gone" not found' },
    { name: 'every failure is reported', sources: [{ secret: { name: 'a' } }, { configMap: { name: 'b' } }], message: '[secret "a" not found, configmap "b" not found]' },
    { name: 'a missing key of a present source fails', sources: [{ configMap: { name: 'present', items: [{ key: 'nokey', path: 'x' }] } }], message: 'configmap references non-existent config key: nokey' },
  ];
  it('reports an API refusal of a source as the FailedMount', async () => {
    src.getSecret = async () => {
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden', message: 'secrets "creds" is forbidden' });
    };
    await assert.rejects(vm.setUp(podWith([projected([{ secret: { name: 'creds' } }])])), { message: 'MountVolume.SetUp failed for volume "all" : secrets "creds" is forbidden' });
  });

  for (const m of missing) {
    it(m.name, async () => {
      src.configMaps.set('ns/present', { data: { k: 'v' } });
      const p = vm.setUp(podWith([projected(m.sources)]));
      if (!m.message) assert.deepEqual(readdirSync((await p).get('all')!.hostPath).filter((e) => !e.startsWith('..')), []);
      else await assert.rejects(p, { message: `MountVolume.SetUp failed for volume "all" : ${m.message}` });
    });
  }
});

describe('projected serviceAccountToken', () => {
  const tokenVolume: Volume = { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 3600 } }] } };

  it('fails clearly when the API server does not serve TokenRequest (no token is made up)', async () => {
    await assert.rejects(vm.setUp(podWith([tokenVolume])), (e: unknown) =>
      e instanceof VolumeError && /^MountVolume\.SetUp failed for volume "tok" : failed to fetch token: the API server does not serve TokenRequest/.test(e.message));
    assert.ok(!existsSync(join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~projected', 'tok', 'token')));
  });

  it('passes on a missing service account', async () => {
    src.tokens = (_ns, sa) => ({ kind: 'notFound', message: `serviceaccounts "${sa}" not found` });
    await assert.rejects(vm.setUp(podWith([tokenVolume])), { message: 'MountVolume.SetUp failed for volume "tok" : failed to fetch token: serviceaccounts "default" not found' });
  });

  it('writes a pod-bound token and renews it at 80% of its lifetime', async () => {
    const asked: unknown[] = [];
    let n = 0;
    src.tokens = (ns, sa, spec): TokenOutcome => {
      asked.push({ ns, sa, spec });
      n++;
      return { kind: 'token', token: `jwt-${n}`, expirationTimestamp: new Date(clock.now() + 3600_000).toISOString() };
    };
    const v = (await vm.setUp(podWith([tokenVolume]))).get('tok')!;
    assert.equal(read(v.hostPath, 'token'), 'jwt-1');
    assert.deepEqual(asked[0], {
      ns: 'ns', sa: 'default',
      spec: { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'uid-1' } },
    });
    clock.advance(2000 * 1000);
    await vm.setUp(podWith([tokenVolume]));
    assert.equal(read(v.hostPath, 'token'), 'jwt-1', 'kept before 80%');
    clock.advance(900 * 1000);
    await vm.setUp(podWith([tokenVolume]));
    assert.equal(read(v.hostPath, 'token'), 'jwt-2', 'renewed after 80%');
    // A failed renewal keeps a token that is still valid.
    src.tokens = () => ({ kind: 'unserved', message: 'down' });
    clock.advance(2900 * 1000);
    await vm.setUp(podWith([tokenVolume]));
    assert.equal(read(v.hostPath, 'token'), 'jwt-2');
  });

  it('fails once the kept token has expired and its renewal still fails, naming the token manager key', async () => {
    src.tokens = () => ({ kind: 'token', token: 'jwt', expirationTimestamp: new Date(clock.now() + 3600_000).toISOString() });
    await vm.setUp(podWith([tokenVolume]));
    src.tokens = () => ({ kind: 'unserved', message: 'down' });
    clock.advance(3601 * 1000);
    const key = '"default"/"ns"/[]string{"vault"}/3600/v1.BoundObjectReference{Kind:"Pod", APIVersion:"v1", Name:"p", UID:"uid-1"}';
    assert.equal(tokenKey('default', 'ns', ['vault'], 3600, 'p', 'uid-1'), key);
    await assert.rejects(vm.setUp(podWith([tokenVolume])), { message: `MountVolume.SetUp failed for volume "tok" : token ${key} expired and refresh failed: down` });
  });

  it('renews by the lifetime the server states, not the one asked for', async () => {
    let n = 0;
    // A server with a shorter maximum answers 600 s for the 3600 asked.
    src.tokens = () => ({ kind: 'token', token: `jwt-${++n}`, expirationTimestamp: new Date(clock.now() + 600_000).toISOString(), expirationSeconds: 600 });
    const v = (await vm.setUp(podWith([tokenVolume]))).get('tok')!;
    clock.advance(490 * 1000);
    await vm.setUp(podWith([tokenVolume]));
    assert.equal(read(v.hostPath, 'token'), 'jwt-2');
  });

  const modes: { name: string; spec: Partial<NonNullable<Pod['spec']>>; mode: number; uid: number }[] = [
    { name: 'defaultMode without a user or group', spec: {}, mode: 0o644, uid: 0 },
    { name: '0600 owned by the one runAsUser', spec: { securityContext: { runAsUser: 1000 } }, mode: 0o600, uid: 1000 },
    { name: '0640 with fsGroup', spec: { securityContext: { fsGroup: 2000 } }, mode: 0o640, uid: 0 },
  ];
  for (const m of modes) {
    it(`writes the token ${m.name}`, { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async () => {
      src.tokens = () => ({ kind: 'token', token: 'jwt', expirationTimestamp: new Date(clock.now() + 3600_000).toISOString() });
      const pod = podWith([tokenVolume]);
      Object.assign(pod.spec!, m.spec);
      const v = (await vm.setUp(pod)).get('tok')!;
      assert.equal(mode(v.hostPath, 'token'), m.mode);
      assert.equal(statSync(join(v.hostPath, 'token')).uid, m.uid);
    });
  }
});

describe('tokenNeedsRenewal (the kubelet token manager\'s requiresRefresh)', () => {
  const h = 3600_000;
  // Issued at 0 (expiry less the stated lifetime); jitter is floor(random * 10) whole seconds.
  const cases: { name: string; t: HeldToken; now: number; random: number; want: boolean }[] = [
    { name: 'an hour token at 79%', t: { token: 'x', expiresAt: h, expirationSeconds: 3600 }, now: 2844_000, random: 0, want: false },
    { name: 'an hour token just past 80%', t: { token: 'x', expiresAt: h, expirationSeconds: 3600 }, now: 2880_001, random: 0, want: true },
    { name: 'the jitter brings it forward by up to 9 s', t: { token: 'x', expiresAt: h, expirationSeconds: 3600 }, now: 2871_500, random: 0.99, want: true },
    { name: 'the 3607 s kubelet token: 20% is 721 whole seconds', t: { token: 'x', expiresAt: 3607_000, expirationSeconds: 3607 }, now: 2886_001, random: 0, want: true },
    { name: 'the 3607 s kubelet token a second earlier', t: { token: 'x', expiresAt: 3607_000, expirationSeconds: 3607 }, now: 2885_999, random: 0, want: false },
    { name: 'a two-day token is renewed after 24 h', t: { token: 'x', expiresAt: 48 * h, expirationSeconds: 48 * 3600 }, now: 24 * h + 1, random: 0, want: true },
    { name: 'a two-day token before 24 h', t: { token: 'x', expiresAt: 48 * h, expirationSeconds: 48 * 3600 }, now: 24 * h - 10_001, random: 0.99, want: false },
    { name: 'a token issued in the future (the clock leapt back)', t: { token: 'x', expiresAt: 2 * h, expirationSeconds: 3600 }, now: h - 1, random: 0, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(tokenNeedsRenewal(c.t, c.now, () => c.random), c.want));
});

describe('fsUser', () => {
  const cases: { name: string; spec: NonNullable<Pod['spec']>; want: number | undefined }[] = [
    { name: 'pod-level user', spec: { securityContext: { runAsUser: 7 }, containers: [{ name: 'a' }], initContainers: [{ name: 'i' }] }, want: 7 },
    { name: 'container overrides agreeing', spec: { securityContext: { runAsUser: 7 }, containers: [{ name: 'a', securityContext: { runAsUser: 8 } }, { name: 'b', securityContext: { runAsUser: 8 } }] }, want: 8 },
    { name: 'containers disagreeing', spec: { containers: [{ name: 'a', securityContext: { runAsUser: 1 } }, { name: 'b', securityContext: { runAsUser: 2 } }] }, want: undefined },
    { name: 'one container without a user', spec: { containers: [{ name: 'a', securityContext: { runAsUser: 1 } }, { name: 'b' }] }, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(fsUser({ spec: c.spec }), c.want));
});
