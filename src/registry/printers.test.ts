import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/types.ts';
import { builtinKinds } from './kinds.ts';
import { genericPrinter } from './printing/generic.ts';
import type { TablePrinter } from './printing/types.ts';
import { DAY, HOUR, MIN, NOW, ago } from './printing/testing.ts';

/** The printer of a plural ("leases") or group-qualified plural; the generic one for anything else. */
function printerFor(resource: string): TablePrinter {
  const [plural, ...group] = resource.split('.');
  const kind = builtinKinds.find((k) => k.info.resource === plural && (group.length === 0 || k.info.group === group.join('.')));
  return kind?.printer ?? genericPrinter;
}

const meta = (name: string, age: number) => ({ name, namespace: 'default', creationTimestamp: ago(age) });

describe('small printers', () => {
  const cases: Array<[string, KubeObject, string[], unknown[]]> = [
    ['namespaces', { kind: 'Namespace', metadata: meta('demo', 3 * HOUR + 5 * MIN), status: { phase: 'Active' } }, ['Name', 'Status', 'Age'], ['demo', 'Active', '3h5m']],
    ['namespaces', { kind: 'Namespace', metadata: meta('old', 40 * DAY), status: { phase: 'Terminating' } }, ['Name', 'Status', 'Age'], ['old', 'Terminating', '40d']],
    ['configmaps', { kind: 'ConfigMap', metadata: meta('cfg', 10 * MIN), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }, ['Name', 'Data', 'Age'], ['cfg', 3, '10m']],
    ['configmaps', { kind: 'ConfigMap', metadata: meta('kube-root-ca.crt', 2 * DAY) }, ['Name', 'Data', 'Age'], ['kube-root-ca.crt', 0, '2d']],
    ['secrets', { kind: 'Secret', metadata: meta('creds', 90_000), type: 'Opaque', data: { user: 'dQ==', pass: 'cA==' } }, ['Name', 'Type', 'Data', 'Age'], ['creds', 'Opaque', 2, '90s']],
    ['serviceaccounts', { kind: 'ServiceAccount', metadata: meta('default', 5 * HOUR) }, ['Name', 'Secrets', 'Age'], ['default', 0, '5h']],
    ['serviceaccounts', { kind: 'ServiceAccount', metadata: meta('bot', 5 * HOUR), secrets: [{ name: 'tok' }] }, ['Name', 'Secrets', 'Age'], ['bot', 1, '5h']],
    ['leases', { kind: 'Lease', metadata: meta('node-1', 8 * DAY), spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } }, ['Name', 'Holder', 'Age'], ['node-1', 'node-1', '8d']],
    ['leases.coordination.k8s.io', { kind: 'Lease', metadata: meta('free', 8 * DAY), spec: {} }, ['Name', 'Holder', 'Age'], ['free', '', '8d']],
    ['widgets.example.com', { kind: 'Widget', metadata: meta('w', 59_000) }, ['Name', 'Age'], ['w', '59s']],
    ['leases.other.io', { kind: 'Lease', metadata: meta('x', 59_000) }, ['Name', 'Age'], ['x', '59s']],
  ];
  for (const [resource, obj, columns, cells] of cases) {
    it(`${resource}: ${obj.metadata?.name}`, () => {
      const p = printerFor(resource);
      assert.deepEqual(p.columns.map((c) => c.name), columns);
      assert.ok(p.columns.every((c) => c.priority === 0));
      assert.equal(p.columns[0].format, 'name');
      assert.deepEqual(p.print(obj, NOW).cells, cells);
    });
  }

  it('events have the upstream column order and wide columns', () => {
    assert.deepEqual(
      printerFor('events').columns.map((c) => `${c.name}:${c.priority}${c.format ? ':' + c.format : ''}`),
      ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1:name'],
    );
  });

  it('nodes have the upstream column order and wide columns', () => {
    assert.deepEqual(
      printerFor('nodes').columns.map((c) => `${c.name}:${c.priority}`),
      ['Name:0', 'Status:0', 'Roles:0', 'Age:0', 'Version:0', 'Internal-IP:1', 'External-IP:1', 'OS-Image:1', 'Kernel-Version:1', 'Container-Runtime:1'],
    );
  });
});
