import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorFromResponse } from '../client/errors.ts';
import { FakeClock } from '../util/clock.ts';
import { ServiceAccountTokenSource, type TokenRequester } from './credentials.ts';

const HOUR = 3600_000;

/** A root client whose answers the test scripts: `down` refuses every request as an unreachable server would. */
function fakeRoot(clock: FakeClock) {
  const calls: string[] = [];
  const state = { down: false, account: false, issued: 0 };
  const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }));
  const root: TokenRequester = {
    create: (<T>(_ref: unknown, ns: string | undefined, body: T): Promise<T> => {
      calls.push(`create ${ns}`);
      if (state.down) return refuse();
      if (state.account) return Promise.reject(errorFromResponse(409, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 409, reason: 'AlreadyExists', message: 'serviceaccounts "deployment-controller" already exists' })));
      state.account = true;
      return Promise.resolve(body);
    }) as TokenRequester['create'],
    createSubresource: (<B, R>(_ref: unknown, ns: string | undefined, name: string, sub: string, body: B): Promise<R> => {
      calls.push(`${sub} ${ns}/${name}`);
      if (state.down) return refuse();
      if (!state.account) return Promise.reject(errorFromResponse(404, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: `serviceaccounts "${name}" not found` })));
      const seconds = (body as { spec: { expirationSeconds: number } }).spec.expirationSeconds;
      const n = ++state.issued;
      return Promise.resolve({ status: { token: `t${n}`, expirationTimestamp: new Date(clock.now() + seconds * 1000).toISOString() } } as R);
    }) as TokenRequester['createSubresource'],
  };
  return { root, calls, state };
}

/** Lets the source's promise chains run (no timers involved). */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('makes the account when missing, asks for an hour, and renews at 80% of the life on the clock', async () => {
  const clock = new FakeClock();
  const { root, calls } = fakeRoot(clock);
  const errors: unknown[] = [];
  const s = new ServiceAccountTokenSource({ root, clock, namespace: 'kube-system', name: 'deployment-controller', onError: (e) => errors.push(e) });
  assert.equal(await s.token(), 't1');
  assert.deepEqual(calls, ['create kube-system', 'token kube-system/deployment-controller']);
  assert.equal(s.token(), 't1', 'a fresh token is given without a request');
  clock.advance(0.8 * HOUR - 1);
  await settle();
  assert.equal(s.issuedCount, 1);
  clock.advance(1);
  await settle();
  assert.equal(s.issuedCount, 2);
  assert.equal(s.token(), 't2');
  assert.deepEqual(calls.slice(2), ['token kube-system/deployment-controller'], 'the account is not made again');
  assert.deepEqual(errors, []);
  s.stop();
  assert.equal(clock.pendingTimers(), 0);
});

test('an account made before (a restart) is found made; one deleted meanwhile is made again at the next renewal', async () => {
  const clock = new FakeClock();
  const { root, calls, state } = fakeRoot(clock);
  state.account = true;
  const errors: unknown[] = [];
  const s = new ServiceAccountTokenSource({ root, clock, namespace: 'kube-system', name: 'deployment-controller', onError: (e) => errors.push(e) });
  assert.equal(await s.token(), 't1');
  assert.deepEqual(calls, ['create kube-system', 'token kube-system/deployment-controller'], 'AlreadyExists is no error');
  state.account = false;
  clock.advance(0.8 * HOUR);
  await settle();
  assert.equal(s.issuedCount, 2);
  assert.deepEqual(calls.slice(2), ['token kube-system/deployment-controller', 'create kube-system', 'token kube-system/deployment-controller']);
  assert.deepEqual(errors, []);
  s.stop();
});

test('an API that is down: retried at 1 s, 2 s, 4 s...; callers in between get the error without a request; the old token serves while valid', async () => {
  const clock = new FakeClock();
  const { root, calls, state } = fakeRoot(clock);
  const errors: Error[] = [];
  const s = new ServiceAccountTokenSource({ root, clock, namespace: 'kube-system', name: 'job-controller', onError: (e) => errors.push(e as Error) });
  state.down = true;
  await assert.rejects(Promise.resolve(s.token()), /ECONNREFUSED/);
  assert.equal(calls.length, 1);
  await assert.rejects(Promise.resolve(s.token()), /ECONNREFUSED/);
  assert.equal(calls.length, 1, 'no request before the retry is due');
  for (const wait of [1000, 2000, 4000]) {
    clock.advance(wait - 1);
    await settle();
    const count: number = calls.length;
    clock.advance(1);
    await settle();
    assert.equal(calls.length, count + 1, `a retry after ${wait} ms`);
  }
  assert.equal(errors.length, 1, 'the same failure is said once');
  assert.match(errors[0]!.message, /^token for service account kube-system\/job-controller: connect ECONNREFUSED/);
  state.down = false;
  clock.advance(8000);
  await settle();
  await settle();
  assert.equal(s.token(), 't1');
  // Down again at renewal time: the valid token keeps serving while renewals are retried.
  state.down = true;
  clock.advance(0.8 * HOUR);
  await settle();
  assert.equal(s.token(), 't1');
  state.down = false;
  clock.advance(1000);
  await settle();
  await settle();
  assert.equal(s.token(), 't2');
  s.stop();
});

test('a token the server refused (401) is replaced at once', async () => {
  const clock = new FakeClock();
  const { root } = fakeRoot(clock);
  const s = new ServiceAccountTokenSource({ root, clock, namespace: 'kube-system', name: 'x', onError: () => {} });
  assert.equal(await s.token(), 't1');
  s.invalidate('other');
  assert.equal(s.token(), 't1', 'a token no longer in use is ignored');
  s.invalidate('t1');
  assert.equal(await s.token(), 't2');
  s.stop();
});
