// events.k8s.io/v1 and core/v1 Events are one set of objects (kube-apiserver keeps both at
// /registry/events): a write through either API is read, listed, selected and watched through the
// other with the fields renamed; events.k8s.io/v1 applies its own strict validation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/types.ts';
import { ApiClient } from '../../src/client/client.ts';
import { ApiError } from '../../src/client/errors.ts';
import type { ResourceRef } from '../../src/client/resources.ts';
import { startControlPlane, type ControlPlane } from '../../src/cmd/controlplane.ts';

const NS = 'evs';
const core: ResourceRef = { apiVersion: 'v1', resource: 'events' };
const v1: ResourceRef = { apiVersion: 'events.k8s.io/v1', resource: 'events' };
type Obj = KubeObject & { metadata: { name: string; resourceVersion?: string } };

let dir: string;
let cp: ControlPlane;
let client: ApiClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-events-'));
  cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0' });
  client = ApiClient.fromKubeconfig(cp.kubeconfigPath, { userAgent: 'events-test' });
  await client.create({ apiVersion: 'v1', resource: 'namespaces' }, undefined, { metadata: { name: NS } });
});

after(async () => {
  client?.close();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const regarding = { kind: 'Pod', namespace: NS, name: 'web', uid: 'u-1', apiVersion: 'v1', fieldPath: 'spec.containers{app}' };

describe('events.k8s.io/v1 over the core events storage', () => {
  test('an events.k8s.io event reads back as a core event with the fields mapped', async () => {
    const created = await client.create<Obj>(v1, NS, {
      metadata: { name: 'new-style' },
      eventTime: '2025-01-02T03:04:05.123456Z',
      regarding,
      related: { kind: 'Node', name: 'n1' },
      note: 'pulled the image',
      reason: 'Pulled',
      action: 'Pulling',
      type: 'Normal',
      reportingController: 'kubelet',
      reportingInstance: 'n1',
      series: { count: 2, lastObservedTime: '2025-01-02T03:05:00.000000Z' },
    });
    assert.equal(created.apiVersion, 'events.k8s.io/v1');
    const got = await client.get<Record<string, unknown> & Obj>(core, NS, 'new-style');
    assert.equal(got.apiVersion, 'v1');
    assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(
      [got.involvedObject, got.related, got.message, got.reason, got.action, got.type, got.reportingComponent, got.reportingInstance, got.eventTime, got.series],
      [regarding, { kind: 'Node', name: 'n1' }, 'pulled the image', 'Pulled', 'Pulling', 'Normal', 'kubelet', 'n1', '2025-01-02T03:04:05.123456Z', { count: 2, lastObservedTime: '2025-01-02T03:05:00.000000Z' }],
    );
    for (const k of ['note', 'regarding', 'reportingController']) assert.ok(!(k in got), k);
  });

  test('a core event reads back as an events.k8s.io event, deprecated fields included', async () => {
    await client.create<Obj>(core, NS, {
      metadata: { name: 'old-style' },
      involvedObject: regarding,
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      type: 'Warning',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: '2025-01-02T03:04:05Z',
      lastTimestamp: '2025-01-02T03:09:05Z',
      count: 7,
    });
    const got = await client.get<Record<string, unknown> & Obj>(v1, NS, 'old-style');
    assert.equal(got.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(
      [got.regarding, got.note, got.reason, got.type, got.deprecatedSource, got.deprecatedFirstTimestamp, got.deprecatedLastTimestamp, got.deprecatedCount],
      [regarding, 'Back-off restarting failed container', 'BackOff', 'Warning', { component: 'kubelet', host: 'n1' }, '2025-01-02T03:04:05Z', '2025-01-02T03:09:05Z', 7],
    );
    for (const k of ['message', 'involvedObject', 'source', 'count', 'firstTimestamp']) assert.ok(!(k in got), k);
  });

  test('lists and field selectors of either API see both', async () => {
    const names = async (ref: ResourceRef, fieldSelector?: string) => (await client.list<Obj>(ref, NS, { fieldSelector })).items.map((o) => o.metadata.name).sort();
    assert.deepEqual(await names(core), ['new-style', 'old-style']);
    assert.deepEqual(await names(v1), ['new-style', 'old-style']);
    assert.deepEqual(await names(v1, 'regarding.name=web,type=Warning'), ['old-style']);
    assert.deepEqual(await names(v1, 'reportingController=kubelet'), ['new-style']);
    // "source" is the source component, else the reporting controller, as the core event's field.
    assert.deepEqual(await names(v1, 'source=kubelet'), ['new-style', 'old-style']);
    await assert.rejects(names(v1, 'involvedObject.name=web'), (e: unknown) => e instanceof ApiError && e.code === 400 && /field label not supported: involvedObject.name/.test(e.message));
  });

  test('a watch through one API sees writes through the other', async () => {
    const abort = new AbortController();
    const start = (await client.list<Obj>(v1, NS)).metadata?.resourceVersion;
    const watch = await client.watch<Record<string, unknown> & Obj>(v1, NS, { resourceVersion: start, signal: abort.signal });
    await client.create<Obj>(core, NS, { metadata: { name: 'watched' }, involvedObject: regarding, reason: 'Started', message: 'started', type: 'Normal' });
    await client.delete(core, NS, 'watched');
    const seen: Array<[string, string, unknown]> = [];
    for await (const ev of watch) {
      const o = ev.object as Record<string, unknown>;
      seen.push([ev.type, String(o.apiVersion), o.note]);
      if (seen.length === 2) break;
    }
    abort.abort();
    assert.deepEqual(seen, [['ADDED', 'events.k8s.io/v1', 'started'], ['DELETED', 'events.k8s.io/v1', 'started']]);

    const abort2 = new AbortController();
    const coreWatch = await client.watch<Record<string, unknown> & Obj>(core, NS, { resourceVersion: start, signal: abort2.signal });
    await client.patch(v1, NS, 'new-style', 'merge', { metadata: { labels: { seen: 'yes' } } });
    for await (const ev of coreWatch) {
      if (ev.object.metadata.name !== 'new-style') continue;
      assert.deepEqual([ev.type, ev.object.apiVersion, ev.object.message, ev.object.metadata.labels], ['MODIFIED', 'v1', 'pulled the image', { seen: 'yes' }]);
      break;
    }
    abort2.abort();
  });

  test('events.k8s.io/v1 validates creates strictly and keeps the event immutable', async () => {
    const invalid = async (ref: ResourceRef, body: Record<string, unknown>, op: 'create' | 'update' = 'create'): Promise<string[]> => {
      try {
        if (op === 'create') await client.create(ref, NS, body as Obj);
        else await client.update(ref, NS, body as Obj);
        return [];
      } catch (err) {
        assert.ok(err instanceof ApiError && err.code === 422, String(err));
        return (err.status?.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
      }
    };
    // What a core/v1 client may send, refused through events.k8s.io/v1 (field paths are the core names, as upstream).
    assert.deepEqual(await invalid(v1, { metadata: { name: 'strict' }, regarding, reason: 'X', type: 'Info', deprecatedCount: 3, deprecatedSource: { component: 'x' } }), [
      'eventTime: Required value',
      'type: Invalid value: "": has invalid value: Info',
      'count: Invalid value: "": needs to be unset',
      'source: Invalid value: "": needs to be unset',
    ]);
    assert.deepEqual(await invalid(v1, { metadata: { name: 'strict' }, eventTime: '2025-01-02T03:04:05.000000Z', regarding, type: 'Normal', series: { count: 1 } }), [
      // Upstream checks the empty name as a qualified name too.
      'reportingController: Required value',
      'reportingController: Invalid value: "": name part must be non-empty',
      `reportingController: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Required value',
      'series.count: Invalid value: "": should be at least 2',
      'series.lastObservedTime: Required value',
    ]);
    const current = await client.get<Record<string, unknown> & Obj>(v1, NS, 'new-style');
    assert.deepEqual(await invalid(v1, { ...current, note: 'changed' }, 'update'), ['message: Invalid value: "changed": field is immutable']);
    // Through core/v1 the same event stays mutable, for old clients.
    const coreCurrent = await client.get<Record<string, unknown> & Obj>(core, NS, 'new-style');
    const updated = await client.update<Record<string, unknown> & Obj>(core, NS, { ...coreCurrent, message: 'changed' });
    assert.equal(updated.message, 'changed');
  });

  test('the table is the core events table', async () => {
    const table = await client.requestJson<{ columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }>('GET', `/apis/events.k8s.io/v1/namespaces/${NS}/events`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const row = table.rows.find((r) => r.cells.at(-1) === 'old-style');
    assert.deepEqual(row?.cells.slice(1, 7), ['Warning', 'BackOff', 'pod/web', 'spec.containers{app}', 'kubelet, n1', 'Back-off restarting failed container']);
  });
});
