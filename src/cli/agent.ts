// `tinykube agent`: one node joining a cluster. Runs until SIGINT/SIGTERM; then stops, leaving the
// pods' containers running so the next start adopts them (--drain removes them first).
import type { Command } from './main.ts';
import { startAgent } from '../cmd/agent.ts';
import { defaultDataDir } from './paths.ts';
import { join } from 'node:path';
import { waitForSignal } from './signals.ts';
import { clusterDNSIP, parseIPv4, parseIPv4Cidr } from '../api/network.ts';
import { BACKENDS, CHECKSUM_OFFLOAD_MODES, type Backend, type ChecksumOffload } from '../overlay/model.ts';

export const agentCommand: Command = {
  summary: 'run a node agent (kubelet) against an API server',
  options: {
    server: { type: 'string' },
    'token-file': { type: 'string' },
    token: { type: 'string' },
    'data-dir': { type: 'string' },
    name: { type: 'string' },
    'containerd-socket': { type: 'string' },
    'registry-config': { type: 'string' },
    'log-root': { type: 'string' },
    'node-ip': { type: 'string' },
    drain: { type: 'boolean' },
    // As the kubelet's (and k3s'): comma-separated cluster DNS addresses ("" = none), the cluster domain, the node's resolver file.
    'cluster-dns': { type: 'string' },
    'cluster-domain': { type: 'string' },
    'resolv-conf': { type: 'string' },
    // The node's Services half (as k3s' --disable-kube-proxy and --disable=coredns): on unless disabled;
    // --service-cidr must match the API server's for the DNS address (its tenth).
    'disable-proxy': { type: 'boolean' },
    'disable-dns': { type: 'boolean' },
    // kube-proxy's: where the proxy serves /healthz and /livez ('' for nowhere).
    'healthz-bind-address': { type: 'string' },
    'service-cidr': { type: 'string' },
    // The pod network between nodes, as k3s' flag: vxlan (default), host-gw (nodes on one link) or none.
    'flannel-backend': { type: 'string' },
    'vxlan-tx-checksum-offload': { type: 'string' },
    // CrashLoopBackOff as "INITIAL[,MAX]" seconds (default 10,300 as in Kubernetes); for demos and tests.
    'crashloop-backoff': { type: 'string' },
  },
  async run(values) {
    const server = values.server as string | undefined;
    if (!server) {
      console.error('tinykube agent: --server URL[,URL...] is required');
      return 2;
    }
    const tokenFile = values['token-file'] as string | undefined;
    const token = values.token as string | undefined;
    if (!tokenFile && !token) {
      console.error('tinykube agent: --token-file FILE (or --token) is required');
      return 2;
    }
    const backoff = values['crashloop-backoff'] as string | undefined;
    let crashLoopBackoff: { initialMs: number; maxMs?: number } | undefined;
    if (backoff) {
      const [a, b] = backoff.split(',').map(Number);
      if (!(a > 0) || (b !== undefined && !(b >= a))) {
        console.error('tinykube agent: --crashloop-backoff wants INITIAL[,MAX] seconds');
        return 2;
      }
      crashLoopBackoff = { initialMs: a * 1000, ...(b !== undefined ? { maxMs: b * 1000 } : {}) };
    }
    const clusterDNS = values['cluster-dns'] as string | undefined;
    const badDNS = clusterDNS?.split(',').map((x) => x.trim()).filter((x) => x && parseIPv4(x) === undefined) ?? [];
    if (badDNS.length > 0) {
      console.error(`tinykube agent: --cluster-dns: not an IPv4 address: ${badDNS.join(', ')}`);
      return 2;
    }
    const serviceCIDR = values['service-cidr'] as string | undefined;
    if (serviceCIDR !== undefined) {
      try {
        parseIPv4Cidr(serviceCIDR);
      } catch (err) {
        console.error(`tinykube agent: --service-cidr: ${(err as Error).message}`);
        return 2;
      }
    }
    const flannelBackend = (values['flannel-backend'] as string | undefined) ?? 'vxlan';
    if (flannelBackend !== 'none' && !BACKENDS.includes(flannelBackend as Backend)) {
      console.error(`tinykube agent: --flannel-backend: "${flannelBackend}" is not one of ${[...BACKENDS, 'none'].join(', ')}`);
      return 2;
    }
    const txChecksumOffload = ((values['vxlan-tx-checksum-offload'] as string | undefined) ?? 'auto') as ChecksumOffload;
    if (!CHECKSUM_OFFLOAD_MODES.includes(txChecksumOffload)) {
      console.error(`tinykube agent: --vxlan-tx-checksum-offload: "${txChecksumOffload}" is not one of ${CHECKSUM_OFFLOAD_MODES.join(', ')}`);
      return 2;
    }
    const dataDir = (values['data-dir'] as string | undefined) ?? join(defaultDataDir(), 'agent');
    // A stop asked for while the node is starting (its containerd already up) is kept and honoured as
    // soon as the start is done, instead of Node's default exit that would leave containerd behind.
    const signalled = waitForSignal();
    // A server that cannot be reached (not up yet, the network down) is tried again with back-off, as
    // the kubelet and k3s' agent keep trying; anything else (a bad token, a bad flag) ends the agent.
    let a: Awaited<ReturnType<typeof startAgent>> | undefined;
    for (let delayMs = 1000; !a; delayMs = Math.min(delayMs * 2, 10_000)) {
      try {
        a = await startAgent({
          server,
          yieldAfterReady: true,
          token,
          tokenFile,
          dataDir,
          name: values.name as string | undefined,
          containerdSocket: values['containerd-socket'] as string | undefined,
          registryConfig: values['registry-config'] as string | undefined,
          logRoot: values['log-root'] as string | undefined,
          nodeIP: values['node-ip'] as string | undefined,
          crashLoopBackoff,
          clusterDNS: clusterDNS === undefined ? (serviceCIDR ? [clusterDNSIP(serviceCIDR)] : undefined) : clusterDNS.split(',').map((x) => x.trim()).filter(Boolean),
          clusterDomain: values['cluster-domain'] as string | undefined,
          resolvConf: values['resolv-conf'] as string | undefined,
          nodeServices: { proxy: !values['disable-proxy'], dns: !values['disable-dns'], serviceCIDR, healthzBindAddress: values['healthz-bind-address'] as string | undefined },
          overlay: flannelBackend === 'none' ? false : { backend: flannelBackend as Backend, txChecksumOffload },
        });
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        console.error(`tinykube agent: cannot reach ${server}: ${(err as Error).message}; trying again in ${delayMs / 1000} s`);
        let timer: NodeJS.Timeout | undefined;
        const woke = await Promise.race([signalled.then(() => 'signal' as const), new Promise<'retry'>((r) => (timer = setTimeout(() => r('retry'), delayMs)))]);
        clearTimeout(timer);
        if (woke === 'signal') return 1;
      }
    }
    console.log(`tinykube agent: node ${a.nodeName} registered with ${server} (podCIDR ${a.agent.podCIDR}); started in ${a.startup.map(([name, ms]) => `${name} ${ms} ms`).join(', ')}`);
    await signalled;
    console.log('tinykube agent: stopping');
    await a.stop({ removePods: Boolean(values.drain) });
  },
};

const UNREACHABLE = /\b(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ETIMEDOUT|ECONNRESET|EAI_AGAIN|ENOTFOUND|ERR_CLIENT_CONNECT_TIMEOUT)\b/;

/** A failure to reach the server (by the error's code, or its message when a layer rewrapped it). */
function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE.test(code)) return true;
  return err instanceof Error && UNREACHABLE.test(err.message);
}
