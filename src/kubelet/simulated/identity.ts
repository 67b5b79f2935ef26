// Node identities for simulated nodes, obtained as a real agent obtains its own (src/client/bootstrap.ts):
// the join token only creates a CertificateSigningRequest for CN=system:node:<name>, O=system:nodes
// with the kubelet client signer, which the approver auto-approves and the signer issues. Each
// simulated node then talks to the API server with its own certificate, so the Node authorizer and
// NodeRestriction treat it as exactly that node (its own Node, Lease and pods), as they treat a real
// agent: the join token's user holds no node permissions of its own.
//
// A real agent keeps a random node password in its data dir. A simulated node has no data dir, so its
// password is derived from the join token and its name (HMAC-SHA256): running `tinykube simulate`
// again with the same token and names joins as the same nodes, while a real agent that joined under
// one of those names first (with its own random password) keeps its name, and a simulated node keeps
// its name against a real agent started later with it.
//
// Cost (measured for the change that brought this, 2 cores shared with other work): one join is one
// CSR, its approval (which checks the node password with scrypt, ~50-60 ms of server CPU by design)
// and its signing: 500 nodes joined in 37 s at a load average of 3.5 (108 s at 4-7), against 2-5 s
// for the same nodes by impersonation (`tinykube simulate --kubeconfig`). Afterwards each node holds
// its own keep-alive connection and pod watch, as a real kubelet does (500 nodes: simulate 313 MiB
// RSS and the server 489 MiB, against 145 and 296 by impersonation).
//
// Called by `tinykube simulate` (src/cli/simulate.ts) through SimulatorOptions.nodeClient, once per
// node at start, concurrently.

import { createHmac } from 'node:crypto';
import { requestCertificate } from '../../client/certificates.ts';
import { nodeClientRequest } from '../../client/bootstrap.ts';
import { ApiClient } from '../../client/client.ts';

export interface NodeIdentityOptions {
  /** The API server URL(s), comma-separated, as the agent is given them. */
  server: string;
  caPem: string;
  /** The join token (K10…::node:…); it signs nothing, it only asks for the nodes' certificates. */
  token: string;
  /** Sockets per node for its requests (its watch has its own); default 2. */
  maxSockets?: number;
  timeoutMs?: number;
}

/** The node password a simulated node `nodeName` joins with (see the header). */
export function simulatedNodePassword(token: string, nodeName: string): string {
  return createHmac('sha256', token).update(`tinykube simulate node password\0${nodeName}`).digest('hex');
}

/**
 * Makes per-node clients: each call asks for node `name`'s client certificate with the join token and
 * returns a client that presents it. close() ends the shared bootstrap client (node clients are the
 * caller's to close).
 */
export function simulatedNodeIdentities(o: NodeIdentityOptions): { nodeClient(name: string): Promise<ApiClient>; close(): void } {
  const bootstrap = new ApiClient({ server: o.server, caPem: o.caPem, token: o.token, userAgent: 'tinykube-simulate (bootstrap)', maxSockets: 64 });
  return {
    async nodeClient(name) {
      const pair = await requestCertificate(bootstrap, { ...nodeClientRequest(name), challengePassword: simulatedNodePassword(o.token, name) }, { timeoutMs: o.timeoutMs });
      return new ApiClient({ server: o.server, caPem: o.caPem, certPem: pair.certPem, keyPem: pair.keyPem, userAgent: `tinykube-simulate/${name}`, maxSockets: o.maxSockets ?? 2 });
    },
    close: () => bootstrap.close(),
  };
}
