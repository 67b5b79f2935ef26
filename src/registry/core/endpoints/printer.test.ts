import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Endpoints, KubeObject } from '../../../api/types.ts';
import { endpointSlicePrinter } from '../../discovery/endpointslices/printer.ts';
import { endpointsPrinter } from './printer.ts';

const NOW = Date.parse('2025-01-01T00:10:00Z');
const created = '2025-01-01T00:00:00Z';
const addrs = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}` }));

test('Endpoints rows: kubectl formatEndpoints', () => {
  const cases: Array<{ what: string; subsets: Endpoints['subsets']; want: string }> = [
    { what: 'none', subsets: undefined, want: '<none>' },
    { what: 'only not ready', subsets: [{ notReadyAddresses: addrs(1), ports: [{ port: 80 }] }], want: '' },
    { what: 'two', subsets: [{ addresses: addrs(2), ports: [{ port: 80 }] }], want: '10.0.0.1:80,10.0.0.2:80' },
    { what: 'headless, no ports', subsets: [{ addresses: addrs(2) }], want: '10.0.0.1,10.0.0.2' },
    { what: 'more', subsets: [{ addresses: addrs(3), ports: [{ port: 80 }, { port: 443 }] }], want: '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...' },
    { what: 'ipv6', subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }], want: '[fd00::1]:80' },
  ];
  for (const c of cases) {
    assert.deepEqual(endpointsPrinter.print({ metadata: { name: 'web', creationTimestamp: created }, subsets: c.subsets } as KubeObject, NOW).cells, ['web', c.want, '10m'], c.what);
  }
  assert.deepEqual(endpointsPrinter.columns.map((c) => c.name), ['Name', 'Endpoints', 'Age']);
});

test('EndpointSlice rows: first three ports and addresses, <unset> when empty', () => {
  const s = (ports: EndpointSlice['ports'], endpoints: EndpointSlice['endpoints']) => ({ metadata: { name: 'web-x', creationTimestamp: created }, addressType: 'IPv4', ports, endpoints }) as KubeObject;
  const eps = (n: number) => Array.from({ length: n }, (_, i) => ({ addresses: [`10.0.0.${i + 1}`] }));
  assert.deepEqual(endpointSlicePrinter.print(s([], []), NOW).cells, ['web-x', 'IPv4', '<unset>', '<unset>', '10m']);
  assert.deepEqual(endpointSlicePrinter.print(s([{ port: 80 }, { name: 'x' }, {}, { port: 1 }], eps(4)), NOW).cells, ['web-x', 'IPv4', '80,x,* + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '10m']);
  assert.deepEqual(endpointSlicePrinter.columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
});
