import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../util/status.ts';
import { buildTable, parseIncludeObject, tableForObject, WatchTableEncoder } from './table.ts';
import { NOW, makePod, running, terminated } from '../../registry/printing/testing.ts';
import { podPrinter } from '../../registry/core/pods/printer.ts';
import { configMapPrinter } from '../../registry/core/configmaps/printer.ts';
import type { KubeObject } from '../../api/types.ts';

const linkding = () => makePod('linkding').onNode('node-1').ip('10.244.0.10').phase('Running').container('app', running(), { ready: true }).build();

describe('buildTable', () => {
  it('builds the pod list Table kubectl expects, in the real JSON shape', () => {
    const table = buildTable('pods', podPrinter, [linkding()], { resourceVersion: '1013' }, { now: NOW });
    assert.deepEqual(Object.keys(table), ['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows']);
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '1013' });
    assert.equal(table.columnDefinitions?.length, 9);
    assert.deepEqual(Object.keys(table.columnDefinitions![0]), ['name', 'type', 'format', 'description', 'priority']);
    const json = JSON.parse(JSON.stringify(table.rows[0])) as unknown;
    assert.deepEqual(json, {
      cells: ['linkding', '1/1', 'Running', '0', '6s', '10.244.0.10', 'node-1', '<none>', '<none>'],
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { name: 'linkding', namespace: 'default', uid: 'uid-linkding', resourceVersion: '1008', creationTimestamp: '2026-01-01T11:59:54Z', labels: { run: 'linkding' } },
      },
    });
  });

  it('copies metadata instead of aliasing the stored object', () => {
    const pod = linkding();
    const row = buildTable('pods', podPrinter, [pod], {}, { now: NOW }).rows[0];
    const partial = row.object as { metadata: { name?: string } };
    partial.metadata.name = 'changed';
    assert.equal(pod.metadata!.name, 'linkding');
  });

  it('carries continue and remainingItemCount, and omits an empty resourceVersion', () => {
    assert.deepEqual(buildTable('pods', podPrinter, [], { resourceVersion: '1056', continue: 'eyJ2Ijoi', remainingItemCount: 1 }, { now: NOW }).metadata,
      { resourceVersion: '1056', continue: 'eyJ2Ijoi', remainingItemCount: 1 });
    assert.deepEqual(buildTable('pods', podPrinter, [], { remainingItemCount: 0 }, { now: NOW }).metadata, { remainingItemCount: 0 });
    const empty = buildTable('pods', podPrinter, [], { resourceVersion: '' }, { now: NOW });
    assert.deepEqual(empty.metadata, {});
    assert.deepEqual(empty.rows, []);
  });

  it('adds row conditions for finished pods', () => {
    const done = makePod('done').phase('Succeeded').container('app', terminated(0, 'Completed')).build();
    const [row] = buildTable('pods', podPrinter, [done], {}, { now: NOW }).rows;
    assert.deepEqual(row.conditions?.map((c) => [c.type, c.status, c.reason]), [['Completed', 'True', 'Succeeded']]);
    assert.ok(!('conditions' in buildTable('pods', podPrinter, [linkding()], {}, { now: NOW }).rows[0]));
  });

  it('includeObject=None leaves rows without object; Object embeds the full object', () => {
    const none = buildTable('pods', podPrinter, [linkding()], {}, { now: NOW, includeObject: 'None' });
    assert.ok(!('object' in none.rows[0]));
    const pod = linkding();
    const full = buildTable('pods', podPrinter, [pod], {}, { now: NOW, includeObject: 'Object' });
    assert.deepEqual(full.rows[0].object, pod);
  });

  it('includeObject=Object fills kind/apiVersion of bare list items when told them', () => {
    const bare: KubeObject = { metadata: { name: 'cfg' }, data: {} };
    const table = buildTable('configmaps', configMapPrinter, [bare], {}, { now: NOW, includeObject: 'Object', objectType: { apiVersion: 'v1', kind: 'ConfigMap' } });
    assert.deepEqual(table.rows[0].object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: {} });
  });

  it('noHeaders sends null column definitions', () => {
    assert.equal(buildTable('pods', podPrinter, [linkding()], {}, { now: NOW, noHeaders: true }).columnDefinitions, null);
  });

  it('speaks v1beta1 when that was negotiated', () => {
    const t = buildTable('pods', podPrinter, [linkding()], {}, { now: NOW, version: 'v1beta1' });
    assert.equal(t.apiVersion, 'meta.k8s.io/v1beta1');
    assert.equal((t.rows[0].object as { apiVersion: string }).apiVersion, 'meta.k8s.io/v1beta1');
  });

  it('falls back to Name/Age for resources without a printer', () => {
    const t = buildTable('widgets.example.com', undefined, [{ metadata: { name: 'w', creationTimestamp: '2026-01-01T11:00:00Z' } }], {}, { now: NOW });
    assert.deepEqual(t.columnDefinitions?.map((c) => c.name), ['Name', 'Age']);
    assert.deepEqual(t.rows[0].cells, ['w', '60m']);
  });
});

describe('single objects and watches', () => {
  it('tableForObject uses the object resourceVersion', () => {
    const t = tableForObject('pods', podPrinter, linkding(), { now: NOW });
    assert.deepEqual(t.metadata, { resourceVersion: '1008' });
    assert.equal(t.rows.length, 1);
  });

  it('WatchTableEncoder sends column definitions only in the first event and passes Status through', () => {
    const enc = new WatchTableEncoder('pods', podPrinter, {});
    const first = enc.encode(linkding(), NOW) as { columnDefinitions: unknown[] | null; rows: Array<{ cells: unknown[] }> };
    assert.equal(first.columnDefinitions?.length, 9);
    const pending = makePod('w1pod').container('app').build();
    const second = enc.encode(pending, NOW) as { columnDefinitions: unknown; rows: Array<{ cells: unknown[] }> };
    assert.equal(second.columnDefinitions, null);
    assert.deepEqual(second.rows[0].cells, ['w1pod', '0/1', 'Pending', '0', '6s', '<none>', '<none>', '<none>', '<none>']);
    assert.match(JSON.stringify(second), /"columnDefinitions":null/);
    const status: KubeObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410 };
    assert.equal(enc.encode(status, NOW), status);
  });

  it('a Status as the very first event still uses up the headers, as upstream', () => {
    const enc = new WatchTableEncoder('pods', podPrinter, {});
    enc.encode({ kind: 'Status', apiVersion: 'v1' }, NOW);
    assert.equal((enc.encode(linkding(), NOW) as { columnDefinitions: unknown }).columnDefinitions, null);
  });
});

describe('parseIncludeObject', () => {
  it('defaults to Metadata and accepts the three policies', () => {
    assert.equal(parseIncludeObject(undefined), 'Metadata');
    assert.equal(parseIncludeObject(null), 'Metadata');
    assert.equal(parseIncludeObject(''), 'Metadata');
    assert.equal(parseIncludeObject('Metadata'), 'Metadata');
    assert.equal(parseIncludeObject('None'), 'None');
    assert.equal(parseIncludeObject('Object'), 'Object');
  });
  it('rejects anything else with a 400', () => {
    assert.throws(() => parseIncludeObject('object'), (e: unknown) =>
      e instanceof StatusError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'unrecognized includeObject value: "object"');
  });
});
