// core/v1 Endpoints rows (kube-apiserver's printEndpoints): NAME, ENDPOINTS, AGE. ENDPOINTS is
// formatEndpoints: the first three ready address:port pairs (plain addresses for a subset with no
// ports, as headless services have), then " + N more..."; "<none>" when there are no subsets.

import type { Endpoints, KubeObject } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter } from '../../printing/types.ts';

/** net.JoinHostPort: IPv6 hosts in brackets. */
function joinHostPort(host: string, port: number | undefined): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}

/** kubectl's formatEndpoints with every port (the printer passes no port filter). */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  const add = (s: string): boolean => {
    if (list.length === max) {
      more = true;
      return false;
    }
    list.push(s);
    return true;
  };
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addrs.length;
      for (const a of addrs) if (!add(a.ip ?? '')) break;
      continue;
    }
    for (const port of ss.ports) {
      count += addrs.length;
      for (const a of addrs) if (!add(joinHostPort(a.ip ?? '', port.port))) break;
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column(
      'Endpoints',
      'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
    ),
    ageColumn(),
  ],
  print: (obj: KubeObject, now: number): PrintedRow => {
    const ep = obj as Endpoints;
    return { cells: [ep.metadata?.name ?? '', formatEndpoints(ep), timestampSince(ep.metadata?.creationTimestamp, now)] };
  },
};
