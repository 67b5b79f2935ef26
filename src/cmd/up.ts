// `tinykube up`: everything for one machine in one process — control plane on SQLite, scheduler,
// and a node agent with its private containerd — talking to each other through the API server.

import os from 'node:os';
import path from 'node:path';
import { startServer, type Server, type ServerOptions } from './server.ts';
import { startAgent, type Agent } from './agent.ts';
import type { Progress } from '../cli/progress.ts';
import { clusterDNSIP, type ServiceRanges } from '../api/network.ts';

export interface UpOptions {
  dataDir: string;
  listen?: string;
  progress: Progress;
  /** Node name (default: the hostname). */
  nodeName?: string;
  /** Where pod logs go (default /var/log/pods). */
  logRoot?: string;
  /** Events are deleted this long after their last write (default 1 h). */
  eventTTLMs?: number;
  /** false: no default local-path StorageClass, and the node offers no local-path storage. */
  localStorage?: false;
  /** Service ClusterIP and node port ranges (default 10.43.0.0/16, 30000-32767); the node's DNS and proxy follow. */
  serviceRanges?: ServiceRanges;
  /** Request limits and the audit log (kube-apiserver's flags). */
  apiServer?: Pick<ServerOptions, 'inFlight' | 'audit'>;
}

export interface Up {
  server: Server;
  agent: Agent;
  /** Stops the node's containers and containerd, then the control plane; pods stay in the store. */
  stop(): Promise<void>;
}

export async function startUp(opts: UpOptions): Promise<Up> {
  const { progress } = opts;
  const server = await startServer({
    dataDir: path.join(opts.dataDir, 'server'),
    listen: opts.listen ?? '127.0.0.1:6443',
    eventTTLMs: opts.eventTTLMs,
    localStorage: opts.localStorage,
    serviceRanges: opts.serviceRanges,
    ...opts.apiServer,
    // One process on SQLite: no second scheduler can exist, and a fresh identity after an unclean stop
    // would leave pods unscheduled until the old holder's lease (15 s) ran out.
    leaderElection: false,
    onStep: (title, fn) => progress.step(title, fn),
  });
  const cp = server.controlPlane;
  let agent: Agent;
  try {
    agent = await progress.step('node agent (containerd, CNI, offline images)', () =>
      startAgent({
        server: cp.url,
        token: cp.pki.nodeToken,
        caPem: cp.pki.caCertPem,
        dataDir: path.join(opts.dataDir, 'agent'),
        name: opts.nodeName ?? os.hostname().toLowerCase(),
        logRoot: opts.logRoot,
        localPathRoot: opts.localStorage === false ? false : undefined,
        // The node's service proxy and cluster DNS: ClusterIPs, NodePorts and names work from the start.
        nodeServices: { serviceCIDR: opts.serviceRanges?.serviceCidr },
        clusterDNS: opts.serviceRanges ? [clusterDNSIP(opts.serviceRanges.serviceCidr)] : undefined,
      }),
    );
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    server,
    agent,
    async stop() {
      await agent.stop({ removePods: true });
      await server.close();
    },
  };
}
