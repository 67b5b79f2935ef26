import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../field.ts';
import type { EndpointSlice, Endpoints } from '../types.ts';
import { defaultEndpointSlice, defaultEndpoints, validateEndpointSlice, validateEndpointSliceUpdate, validateEndpoints } from './endpoints.ts';

const msgs = (errs: ReturnType<typeof validateEndpoints>): string[] => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const meta = { name: 'web', namespace: 'default' };

test('Endpoints: kube 1.32 messages for subsets, addresses and ports', () => {
  const cases: Array<{ what: string; ep: Endpoints; want: string[] }> = [
    { what: 'valid', ep: { metadata: meta, subsets: [{ addresses: [{ ip: '10.244.0.5', hostname: 'web-0', nodeName: 'n1' }], ports: [{ port: 80, protocol: 'TCP' }] }] }, want: [] },
    { what: 'no addresses', ep: { metadata: meta, subsets: [{ ports: [{ port: 80, protocol: 'TCP' }] }] }, want: ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`'] },
    {
      what: 'bad and special IPs',
      ep: { metadata: meta, subsets: [{ addresses: [{ ip: 'x' }, { ip: '127.0.0.1' }], notReadyAddresses: [{ ip: '169.254.1.1' }, { ip: '0.0.0.0' }] }] },
      want: [
        'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
        'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address',
        'subsets[0].addresses[1].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
        'subsets[0].notReadyAddresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
        'subsets[0].notReadyAddresses[1].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
      ],
    },
    {
      what: 'ports: names required when several, number range, protocol',
      ep: { metadata: meta, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 0, protocol: 'TCP' }, { name: 'b', port: 80, protocol: 'ICMP' }, { name: 'c', port: 81 }] }] },
      want: [
        'subsets[0].ports[0].name: Required value',
        'subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'subsets[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        'subsets[0].ports[2].protocol: Required value',
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(msgs(validateEndpoints(c.ep)), c.want, c.what);
  const d: Endpoints = { subsets: [{ ports: [{ port: 80 }] }] };
  defaultEndpoints(d);
  assert.equal(d.subsets?.[0]?.ports?.[0]?.protocol, 'TCP');
});

test('EndpointSlice: kube 1.32 messages; addressType required, supported and immutable; defaults', () => {
  const ok: EndpointSlice = { metadata: meta, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] };
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ addresses: [`10.0.${i >> 8}.${(i & 255) + 1 > 255 ? 1 : (i & 255) + 1}`] }));
  const cases: Array<{ what: string; s: EndpointSlice; want: string[] }> = [
    { what: 'valid', s: ok, want: [] },
    { what: 'no type', s: { ...ok, addressType: undefined as unknown as string }, want: ['addressType: Required value'] },
    { what: 'bad type', s: { ...ok, addressType: 'IP' }, want: ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'] },
    { what: 'too many endpoints', s: { ...ok, endpoints: many(1001) }, want: ['endpoints: Too many: 1001: must have at most 1000 items'] },
    {
      what: 'addresses for the type',
      s: { ...ok, endpoints: [{ addresses: [] }, { addresses: ['fd00::1', '127.0.0.2'] }, { addresses: ['10.0.0.1'], hostname: 'A_B' }] },
      want: [
        'endpoints[0].addresses: Required value: must contain at least 1 address',
        'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[1].addresses[1]: Invalid value: "127.0.0.2": may not be in the loopback range (127.0.0.0/8, ::1/128)',
        "endpoints[2].hostname: Invalid value: \"A_B\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    },
    { what: 'fqdn', s: { ...ok, addressType: 'FQDN', endpoints: [{ addresses: ['example.com', 'local'] }] }, want: ['endpoints[0].addresses[1]: Invalid value: "local": should be a domain with at least two segments separated by dots'] },
    {
      what: 'ports',
      s: { ...ok, ports: [{ name: 'a', port: 1, protocol: 'TCP' }, { name: 'a', port: 2, protocol: 'TCP' }, { name: 'b', protocol: 'X' }, { name: 'c', protocol: 'TCP', appProtocol: 'not valid' }] },
      want: [
        'ports[1].name: Duplicate value: "a"',
        'ports[2].protocol: Unsupported value: "X": supported values: "SCTP", "TCP", "UDP"',
        "ports[3].appProtocol: Invalid value: \"not valid\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      ],
    },
  ];
  for (const c of cases) assert.deepEqual(msgs(validateEndpointSlice(c.s)), c.want, c.what);
  const old = { ...ok, metadata: { ...meta, resourceVersion: '1' } };
  assert.deepEqual(msgs(validateEndpointSliceUpdate({ ...old, addressType: 'IPv6', endpoints: [] }, old)), ['addressType: Invalid value: "IPv6": field is immutable']);
  assert.deepEqual(msgs(validateEndpointSliceUpdate({ ...old, addressType: 'IP' }, { ...old, addressType: 'IP' })), [], 'the deprecated IP type may be written back');
  const d: EndpointSlice = { addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] };
  defaultEndpointSlice(d);
  assert.deepEqual(d.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
});
