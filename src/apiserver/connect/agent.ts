// Where a node's agent serves its streaming endpoints: the seam between the API server's connect
// handler and the Node objects the agents publish. Called once per log/exec/attach/port-forward
// request, concurrently; reads only.

import type { Node } from '../../api/types.ts';
import type { Registry } from '../../registry/registry.ts';
import { StatusError } from '../../util/status.ts';

export interface AgentEndpoint {
  host: string;
  port: number;
}

export type AgentLocator = (nodeName: string, registry: Registry) => Promise<AgentEndpoint>;

/** The kubelet's default port, used when a Node does not publish daemonEndpoints. */
export const DEFAULT_AGENT_PORT = 10250;

// The order the API server prefers node addresses in (its --kubelet-preferred-address-types default
// puts Hostname first; tinykube nodes may have names that do not resolve, so IPs go first).
const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'];

/** The agent endpoint a Node object advertises, or undefined when it has no usable address yet. */
export function nodeAgentEndpoint(node: Node): AgentEndpoint | undefined {
  const addresses = node.status?.addresses ?? [];
  let host: string | undefined;
  for (const t of PREFERRED_ADDRESS_TYPES) {
    host = addresses.find((a) => a.type === t && a.address)?.address;
    if (host) break;
  }
  if (!host) return undefined;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { host, port: typeof port === 'number' && port > 0 ? port : DEFAULT_AGENT_PORT };
}

/** Reads the Node from the registry (no cache: these requests are rare and want fresh addresses). */
export const nodeObjectLocator: AgentLocator = async (nodeName, registry) => {
  const store = registry.lookup('', 'v1', 'nodes');
  if (!store) throw new StatusError(500, 'InternalError', 'Internal error occurred: the nodes resource is not registered');
  let node: Node;
  try {
    node = (await store.get(undefined, nodeName)) as Node;
  } catch (err) {
    if (err instanceof StatusError && err.code === 404) throw new StatusError(404, 'NotFound', `nodes "${nodeName}" not found`, { name: nodeName, kind: 'nodes' });
    throw err;
  }
  const ep = nodeAgentEndpoint(node);
  if (!ep) throw new StatusError(500, 'InternalError', `Internal error occurred: node "${nodeName}" does not publish an address for its agent`);
  return ep;
};
