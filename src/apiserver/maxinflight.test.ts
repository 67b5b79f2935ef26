import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightLimiter, isLongRunning, type InFlightRequest } from './maxinflight.ts';

const r = (verb: string, over: Partial<InFlightRequest> = {}): InFlightRequest => ({ verb, isResourceRequest: true, subresource: '', path: '/api/v1/pods', groups: ['system:authenticated'], ...over });

describe('max in flight: long-running requests (kube-apiserver\'s BasicLongRunningRequestCheck)', () => {
  const cases: Array<[string, InFlightRequest, boolean]> = [
    ['watch', r('watch'), true],
    ['proxy verb', r('proxy'), true],
    ['exec', r('create', { subresource: 'exec' }), true],
    ['attach', r('get', { subresource: 'attach' }), true],
    ['portforward', r('create', { subresource: 'portforward' }), true],
    ['log (followed or not)', r('get', { subresource: 'log' }), true],
    ['pods/proxy', r('get', { subresource: 'proxy' }), true],
    ['status', r('update', { subresource: 'status' }), false],
    ['list', r('list'), false],
    ['pprof', r('get', { isResourceRequest: false, path: '/debug/pprof/heap' }), true],
    ['a path named like a subresource', r('get', { isResourceRequest: false, subresource: 'log', path: '/logs' }), false],
  ];
  for (const [name, req, want] of cases) it(name, () => assert.equal(isLongRunning(req), want));
});

describe('max in flight: the limits', () => {
  it('read-only and mutating requests are counted apart; one over the limit is refused until one ends', () => {
    const l = new InFlightLimiter({ maxRequestsInFlight: 2, maxMutatingRequestsInFlight: 1 });
    const reads = [l.admit(r('get')), l.admit(r('list'))];
    assert.ok(reads.every((d) => d.admitted));
    assert.equal(l.admit(r('get')).admitted, false);
    const write = l.admit(r('create'));
    assert.ok(write.admitted);
    // HEAD and other methods of paths are mutating, as kube counts every verb but get, list and watch.
    assert.equal(l.admit(r('head', { isResourceRequest: false, path: '/version' })).admitted, false);
    assert.equal(l.admit(r('patch')).admitted, false);
    // Watches are never counted.
    assert.ok(l.admit(r('watch')).admitted);
    if (reads[0]!.admitted) {
      reads[0]!.release();
      reads[0]!.release();
    }
    assert.deepEqual(l.inFlight(), { readOnly: 1, mutating: 1 });
    assert.ok(l.admit(r('get')).admitted);
    assert.equal(l.admit(r('get')).admitted, false);
  });

  it('system:masters is served beyond the limit, uncounted', () => {
    const l = new InFlightLimiter({ maxRequestsInFlight: 1, maxMutatingRequestsInFlight: 1 });
    assert.ok(l.admit(r('get')).admitted);
    assert.ok(l.admit(r('get', { groups: ['system:masters'] })).admitted);
    assert.deepEqual(l.inFlight(), { readOnly: 1, mutating: 0 });
  });

  it('0 is no limit', () => {
    const l = new InFlightLimiter({ maxRequestsInFlight: 0, maxMutatingRequestsInFlight: 0 });
    for (let i = 0; i < 1000; i++) assert.ok(l.admit(r(i % 2 ? 'get' : 'create')).admitted);
  });
});
