import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../util/clock.ts';
import { ApiEventRecorder, containerFieldPath, podRef } from './recorder.ts';

interface Call {
  verb: string;
  name?: string;
  body: Record<string, unknown>;
}

function fakeClient(calls: Call[]) {
  return {
    async create<T>(_ref: unknown, _ns: string | undefined, body: T): Promise<T> {
      calls.push({ verb: 'create', body: body as Record<string, unknown> });
      return body;
    },
    async patch<T>(_ref: unknown, _ns: string | undefined, name: string, _type: string, patch: unknown): Promise<T> {
      calls.push({ verb: 'patch', name, body: patch as Record<string, unknown> });
      return patch as T;
    },
  };
}

describe('ApiEventRecorder', () => {
  const pod = { metadata: { name: 'web', namespace: 'demo', uid: 'u-1' } };

  it('writes core/v1 Events with the pod uid, fieldPath and kubelet source', async () => {
    const calls: Call[] = [];
    const clock = new FakeClock();
    const r = new ApiEventRecorder({ client: fakeClient(calls), host: 'node-1', clock });
    r.event(podRef(pod, containerFieldPath('app')), 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    await r.flush();
    assert.equal(calls.length, 1);
    const ev = calls[0].body;
    assert.deepEqual(ev.involvedObject, { kind: 'Pod', apiVersion: 'v1', namespace: 'demo', name: 'web', uid: 'u-1', fieldPath: 'spec.containers{app}' });
    assert.deepEqual(ev.source, { component: 'kubelet', host: 'node-1' });
    assert.equal(ev.count, 1);
    assert.equal(ev.type, 'Normal');
    assert.match((ev.metadata as { name: string }).name, /^web\.[0-9a-f]+$/);
    assert.equal(ev.firstTimestamp, '2026-01-01T00:00:00Z');
  });

  it('aggregates repeats into count and lastTimestamp; a different message is a new Event', async () => {
    const calls: Call[] = [];
    const clock = new FakeClock();
    const r = new ApiEventRecorder({ client: fakeClient(calls), host: 'node-1', clock });
    const ref = podRef(pod, containerFieldPath('app'));
    r.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: x');
    clock.advance(5000);
    r.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: x');
    clock.advance(5000);
    r.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: x');
    r.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: y');
    await r.flush();
    const creates = calls.filter((c) => c.verb === 'create');
    const patches = calls.filter((c) => c.verb === 'patch');
    assert.deepEqual(creates.map((c) => c.body.message), ['Liveness probe failed: x', 'Liveness probe failed: y']);
    const name = (creates[0].body.metadata as { name: string }).name;
    assert.deepEqual(patches.map((p) => p.name), [name, name]);
    assert.deepEqual(patches[1].body, { count: 3, lastTimestamp: '2026-01-01T00:00:10Z' });
    // Past the aggregation window, a repeat starts over.
    clock.advance(11 * 60_000);
    r.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: x');
    await r.flush();
    assert.equal(calls.at(-1)!.verb, 'create');
  });
});
