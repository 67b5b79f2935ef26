// discovery.k8s.io/v1 EndpointSlice rows (kube-apiserver's printEndpointSlice): NAME, ADDRESSTYPE,
// PORTS, ENDPOINTS, AGE. PORTS and ENDPOINTS list the first three (a port without a number shows
// its name, or "*"), then " + N more..."; an empty list is "<unset>".

import type { EndpointSlice, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

/** listWithMoreString over every item, of which the first three are shown. */
function firstThree(items: string[]): string {
  const max = 3;
  const ret = items.slice(0, max).join(',');
  if (items.length > max) return `${ret} + ${items.length - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

export function formatSlicePorts(slice: EndpointSlice): string {
  return firstThree((slice.ports ?? []).map((p) => (p.port != null ? String(p.port) : p.name != null ? p.name : '*')));
}

export function formatSliceEndpoints(slice: EndpointSlice): string {
  return firstThree((slice.endpoints ?? []).flatMap((e) => e.addresses ?? []));
}

export const endpointSlicePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column(
      'AddressType',
      'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
    ),
    column(
      'Ports',
      'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
    ),
    column('Endpoints', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number): PrintedRow => {
    const s = obj as EndpointSlice;
    return { cells: [s.metadata?.name ?? '', s.addressType ?? '', formatSlicePorts(s), formatSliceEndpoints(s), timestampSince(s.metadata?.creationTimestamp, now)] };
  },
};
