// The informers the proxy reads, built from an API client. The label selector is kube-proxy's: objects
// of another proxy (service.kubernetes.io/service-proxy-name) and headless Services' slices never
// reach this node's cache at all. The caller starts and stops them (the agent may share them).

import type { EndpointSlice, Service } from '../api/types.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME } from '../api/network.ts';
import type { Clock } from '../util/clock.ts';
import type { ApiClient } from '../client/client.ts';
import { Informer, listWatch } from '../client/informer.ts';
import type { ResourceRef } from '../client/resources.ts';

// Local refs: the typed refs of src/client/resources.ts arrive with the kinds themselves.
const SERVICES: ResourceRef = { apiVersion: 'v1', resource: 'services' };
const ENDPOINT_SLICES: ResourceRef = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };

export const PROXY_LABEL_SELECTOR = `!${LABEL_SERVICE_PROXY_NAME},!${LABEL_HEADLESS}`;

export interface ProxyInformers {
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
}

export function proxyInformers(client: ApiClient, clock?: Clock, onError?: (err: unknown) => void): ProxyInformers {
  const selectors = { labelSelector: PROXY_LABEL_SELECTOR };
  return {
    services: new Informer<Service>(listWatch(client, SERVICES, undefined, selectors), { clock, onError }),
    slices: new Informer<EndpointSlice>(listWatch(client, ENDPOINT_SLICES, undefined, selectors), { clock, onError }),
  };
}
