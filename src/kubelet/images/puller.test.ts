import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { CriError, GRPC_CODE } from '../runtime/errors.ts';
import type { AuthConfig, ImageInfo, ImageService } from '../runtime/runtime.ts';
import { classifyPullError, defaultPullPolicy, ensureImage, goDuration, type PullEvent, type PullPolicy } from './puller.ts';
import { normalizeImageName } from './reference.ts';

type PullFn = (image: string, auth: AuthConfig | undefined) => Promise<string>;

/** An image service whose pulls are scripted per test; records every call. */
class StubImages implements ImageService {
  readonly present = new Map<string, ImageInfo>();
  readonly pulls: { image: string; auth: AuthConfig | undefined }[] = [];
  pull: PullFn = async (image) => this.add(image);
  add(image: string): string {
    const id = `sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    const info: ImageInfo = { id, repoTags: [normalizeImageName(image)], repoDigests: [], size: 4242, username: '', pinned: false };
    this.present.set(normalizeImageName(image), info);
    this.present.set(id, info);
    return id;
  }
  async listImages(): Promise<ImageInfo[]> {
    return [...new Set(this.present.values())];
  }
  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    return this.present.get(image.startsWith('sha256:') ? image : normalizeImageName(image));
  }
  async pullImage(image: string, auth?: AuthConfig): Promise<string> {
    this.pulls.push({ image, auth });
    return this.pull(image, auth);
  }
  async removeImage(): Promise<void> {}
  async imageFsInfo() {
    return [];
  }
}

const unauthorized = (image: string) =>
  new CriError('ERR_CRI_UNKNOWN', 'PullImage', `failed to pull and unpack image "${image}": failed to resolve reference "${image}": pulling from host 127.0.0.1:5000 failed with status code [manifests latest]: 401 Unauthorized`);
const notFound = (image: string) =>
  new CriError('ERR_CRI_NOT_FOUND', 'PullImage', `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`, GRPC_CODE.NOT_FOUND);
const refused = () => new CriError('ERR_CRI_UNKNOWN', 'PullImage', 'failed to do request: Head "http://127.0.0.1:1/v2/x/manifests/latest": dial tcp 127.0.0.1:1: connect: connection refused');

test('default pull policy as Kubernetes defaults it', () => {
  const cases: [string, PullPolicy][] = [
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['127.0.0.1:5000/busybox', 'Always'],
    ['127.0.0.1:5000/busybox:v1', 'IfNotPresent'],
    [`busybox@sha256:${'a'.repeat(64)}`, 'IfNotPresent'],
  ];
  for (const [image, want] of cases) assert.equal(defaultPullPolicy(image), want, image);
});

test('imagePullPolicy decides whether to pull, with the kubelet events', async () => {
  const cases: { policy: PullPolicy | undefined; image: string; present: boolean; pulled: boolean | 'never'; events: string[] }[] = [
    { policy: 'Always', image: 'busybox:1.36', present: true, pulled: true, events: ['Pulling', 'Pulled'] },
    { policy: 'Always', image: 'busybox:1.36', present: false, pulled: true, events: ['Pulling', 'Pulled'] },
    { policy: 'IfNotPresent', image: 'busybox', present: true, pulled: false, events: ['Pulled'] },
    { policy: 'IfNotPresent', image: 'busybox', present: false, pulled: true, events: ['Pulling', 'Pulled'] },
    { policy: 'Never', image: 'busybox', present: true, pulled: false, events: ['Pulled'] },
    { policy: 'Never', image: 'busybox', present: false, pulled: 'never', events: ['ErrImageNeverPull'] },
    { policy: undefined, image: 'busybox', present: true, pulled: true, events: ['Pulling', 'Pulled'] },
    { policy: undefined, image: 'busybox:1.36', present: true, pulled: false, events: ['Pulled'] },
  ];
  for (const c of cases) {
    const rt = new StubImages();
    if (c.present) rt.add(c.image);
    const events: PullEvent[] = [];
    const r = await ensureImage(rt, c.image, c.policy, [], undefined, { onEvent: (e) => events.push(e) });
    const name = `${c.policy} ${c.image} present=${c.present}`;
    assert.deepEqual(events.map((e) => e.reason), c.events, name);
    if (c.pulled === 'never') {
      assert.equal(r.ok, false, name);
      assert.ok(!r.ok);
      assert.equal(r.reason, 'ErrImageNeverPull');
      assert.equal(r.message, `Container image "${c.image}" is not present with pull policy of Never`);
      assert.equal(events[0].type, 'Warning');
      assert.equal(rt.pulls.length, 0);
      continue;
    }
    assert.ok(r.ok, name);
    assert.equal(r.pulled, c.pulled, name);
    assert.equal(rt.pulls.length, c.pulled ? 1 : 0, name);
    assert.equal(r.ref, rt.present.get(normalizeImageName(c.image))!.id, name);
    if (!c.pulled) assert.equal(events[0].message, `Container image "${c.image}" already present on machine`);
    else {
      assert.equal(events[0].message, `Pulling image "${c.image}"`);
      assert.match(events[1].message, new RegExp(`^Successfully pulled image "${c.image.replace('.', '\\.')}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: 4242 bytes\\.$`));
    }
  }
});

test('an unparseable image is InvalidImageName without touching the runtime', async () => {
  const rt = new StubImages();
  const events: PullEvent[] = [];
  const r = await ensureImage(rt, 'Bad Image', 'Always', [], undefined, { onEvent: (e) => events.push(e) });
  assert.ok(!r.ok);
  assert.equal(r.reason, 'InvalidImageName');
  assert.equal(r.message, 'Failed to apply default image tag "Bad Image": couldn\'t parse image name "Bad Image": invalid reference format');
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'InspectFailed']]);
  assert.equal(rt.pulls.length, 0);
});

test('each credential is tried in turn after an auth failure, not after an unreachable registry', async () => {
  const a1: AuthConfig = { username: 'wrong', password: 'x' };
  const a2: AuthConfig = { username: 'right', password: 'y' };
  const rt = new StubImages();
  rt.pull = async (image, auth) => {
    if (auth?.username !== 'right') throw unauthorized(image);
    return rt.add(image);
  };
  const ok = await ensureImage(rt, '127.0.0.1:5000/app:1', 'IfNotPresent', [a1, a2]);
  assert.ok(ok.ok && ok.pulled);
  assert.deepEqual(rt.pulls.map((p) => p.auth), [a1, a2]);

  const rt2 = new StubImages();
  rt2.pull = async () => {
    throw refused();
  };
  const down = await ensureImage(rt2, '127.0.0.1:1/x', 'Always', [a1, a2]);
  assert.ok(!down.ok);
  assert.equal(down.attempts, 1);
  assert.equal(down.cause, 'unavailable');
  assert.equal(down.reason, 'ErrImagePull');
});

test('failures carry the runtime error as the kubelet prints it, and a cause', async () => {
  const rt = new StubImages();
  rt.pull = async (image, auth) => {
    throw auth ? unauthorized(image) : notFound(image);
  };
  const events: PullEvent[] = [];
  const nf = await ensureImage(rt, 'nope', 'IfNotPresent', [], undefined, { onEvent: (e) => events.push(e) });
  assert.ok(!nf.ok);
  assert.equal(nf.cause, 'not-found');
  assert.equal(nf.message, 'rpc error: code = NotFound desc = failed to pull and unpack image "nope": failed to resolve reference "nope": nope: not found');
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'Pulling'], ['Warning', 'Failed']]);
  assert.equal(events[1].message, `Failed to pull image "nope": ${nf.message}`);

  const two = await ensureImage(rt, 'priv', 'Always', [{ username: 'a' }, { username: 'b' }]);
  assert.ok(!two.ok);
  assert.equal(two.cause, 'auth');
  assert.equal(two.attempts, 2);
  // Identical errors from several credentials aggregate to one message, as utilerrors does.
  assert.match(two.message, /^rpc error: code = Unknown desc = .*401 Unauthorized$/);
});

test('useLocalOnFailure runs a present image when the registry is unreachable, never after an auth failure', async () => {
  const cases: [string, () => CriError, boolean][] = [
    ['unreachable', refused, true],
    ['not found', () => notFound('busybox'), true],
    ['unauthorized', () => unauthorized('busybox'), false],
  ];
  for (const [name, error, local] of cases) {
    const rt = new StubImages();
    const id = rt.add('busybox');
    rt.pull = async () => {
      throw error();
    };
    const events: PullEvent[] = [];
    const r = await ensureImage(rt, 'busybox', 'Always', [], undefined, { useLocalOnFailure: true, onEvent: (e) => events.push(e) });
    assert.equal(r.ok, local, name);
    if (r.ok) {
      assert.equal(r.ref, id);
      assert.equal(r.pulled, false);
      assert.match(r.pullError ?? '', /^rpc error: /);
      assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'Pulling'], ['Normal', 'Pulled']]);
      assert.match(events[1].message, /^Container image "busybox" already present on machine; pulling it failed, using the local image: rpc error/);
    } else assert.equal(r.cause, 'auth');
    // Without the option, Kubernetes' behaviour: the pull failure stands.
    const strict = await ensureImage(rt, 'busybox', 'Always', []);
    assert.equal(strict.ok, false, name);
  }
});

test('concurrent pulls of one image with the same credentials share one PullImage', async () => {
  const rt = new StubImages();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  rt.pull = async (image) => {
    await gate;
    return rt.add(image);
  };
  const auth = [{ username: 'u', password: 'p' }];
  const same = [ensureImage(rt, 'busybox', 'Always', auth), ensureImage(rt, 'busybox', 'Always', [{ username: 'u', password: 'p' }])];
  const other = ensureImage(rt, 'busybox', 'Always', [{ username: 'v', password: 'p' }]);
  while (rt.pulls.length < 2) await new Promise((r) => setImmediate(r));
  release();
  const results = await Promise.all([...same, other]);
  assert.ok(results.every((r) => r.ok && r.pulled));
  assert.deepEqual(rt.pulls.map((p) => p.auth?.username), ['u', 'v']);
  // Once finished, a new call pulls again (Always).
  await ensureImage(rt, 'busybox', 'Always', auth);
  assert.equal(rt.pulls.length, 3);
});

test('progress reports elapsed time (and bytes from a source) while the pull runs', async () => {
  const clock = new FakeClock();
  const rt = new StubImages();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  rt.pull = async (image) => {
    await gate;
    return rt.add(image);
  };
  const seen: { elapsedMs: number; bytes?: number }[] = [];
  let fetched = 0;
  const p = ensureImage(rt, 'busybox', 'Always', [], undefined, {
    clock,
    progressIntervalMs: 500,
    onProgress: (e) => seen.push({ elapsedMs: e.elapsedMs, bytes: e.bytes }),
    progressSource: async () => ({ bytes: (fetched += 100), totalBytes: 1000 }),
  });
  while (rt.pulls.length === 0) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 3; i++) {
    clock.advance(500);
    while (seen.length < i + 1) await new Promise((r) => setImmediate(r));
  }
  release();
  const r = await p;
  assert.ok(r.ok);
  assert.deepEqual(seen, [{ elapsedMs: 500, bytes: 100 }, { elapsedMs: 1000, bytes: 200 }, { elapsedMs: 1500, bytes: 300 }]);
  assert.equal(clock.pendingTimers(), 0);
});

test('classifies containerd pull errors', () => {
  const cases: [unknown, string][] = [
    [unauthorized('x'), 'auth'],
    [new CriError('ERR_CRI_UNKNOWN', 'PullImage', 'failed to resolve reference "x": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope'), 'auth'],
    [notFound('x'), 'not-found'],
    [refused(), 'unavailable'],
    [new CriError('ERR_CRI_UNKNOWN', 'PullImage', 'http: server gave HTTP response to HTTPS client'), 'unavailable'],
    [new CriError('ERR_CRI_UNKNOWN', 'PullImage', 'failed to unpack image: something else'), 'other'],
  ];
  for (const [err, want] of cases) assert.equal(classifyPullError(err), want, String(err));
});

test('durations print as Go prints them, truncated to milliseconds', () => {
  const cases: [number, string][] = [[0, '0s'], [0.7, '0s'], [523.9, '523ms'], [1000, '1s'], [1500, '1.5s'], [12_345, '12.345s'], [62_004, '1m2.004s'], [3_600_000, '1h0m0s']];
  for (const [ms, want] of cases) assert.equal(goDuration(ms), want, String(ms));
});
