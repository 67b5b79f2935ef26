// EndpointSlices (discovery.k8s.io/v1): a Service's endpoints, at most 1000 a slice, written by the
// EndpointSlice controller (and the API server for `kubernetes`), read by the node proxy and DNS.

import type { EndpointSlice } from '../../../api/types.ts';
import { semanticDeepEqual } from '../../../api/equality.ts';
import { defaultEndpointSlice, validateEndpointSlice, validateEndpointSliceUpdate } from '../../../api/validation/endpoints.ts';
import { defineKind } from '../../kind.ts';
import { endpointSlicePrinter } from './printer.ts';

/**
 * dropTopologyOnV1: writes through v1 drop endpoints[].deprecatedTopology (a node name kept there by
 * v1beta1 moves to nodeName when the old slice had it); an update leaving the endpoints as they were
 * keeps them untouched.
 */
function dropTopology(slice: EndpointSlice, old?: EndpointSlice): void {
  if (old && semanticDeepEqual(old.endpoints, slice.endpoints)) return;
  const known = new Set((old?.endpoints ?? []).map((e) => e.deprecatedTopology?.['kubernetes.io/hostname']).filter((n): n is string => !!n));
  for (const ep of slice.endpoints ?? []) {
    const e = ep as { nodeName?: string; deprecatedTopology?: Record<string, string> };
    const host = e.deprecatedTopology?.['kubernetes.io/hostname'];
    if (e.nodeName == null && host && known.has(host)) e.nodeName = host;
    delete e.deprecatedTopology;
  }
}

export const endpointSlices = defineKind<EndpointSlice>({
  identity: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true },
  strategy: {
    defaults: defaultEndpointSlice,
    prepareForCreate: (s) => dropTopology(s),
    validate: validateEndpointSlice,
    prepareForUpdate: (s, old) => {
      dropTopology(s, old);
      // endpointSliceStrategy.PrepareForUpdate: a label change is a new generation too (the store
      // counts the other fields), so the EndpointSlice controller's tracker sees it as news.
      if (!semanticDeepEqual(s.metadata?.labels ?? {}, old.metadata?.labels ?? {})) s.metadata!.generation = (old.metadata?.generation ?? 0) + 1;
    },
    validateUpdate: validateEndpointSliceUpdate,
  },
  printer: endpointSlicePrinter,
});
