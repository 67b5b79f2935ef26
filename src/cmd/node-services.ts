// The Services half of a node: the service proxy (src/proxy: one nftables table) and the cluster DNS
// (src/dns: the kube-dns address on a dummy link, UDP and TCP port 53), started after the node agent
// (the proxy needs the node's pod CIDR) and stopped before it. Both go away with the node: stop()
// deletes the table, closes the DNS sockets and removes the link, so no rule, address or listener of
// tinykube stays behind on the host. The proxy also serves kube-proxy's health ports (src/proxy/health.ts):
// each healthCheckNodePort and /healthz on 0.0.0.0:10256. The two share one pair of informers (one
// list and watch of Services and of EndpointSlices, objects trimmed to what they read: informers.ts).
import { ApiClient } from '../client/client.ts';
import { clusterDNSIP, DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE_CIDR } from '../api/network.ts';
import { Proxier, type SyncRecord } from '../proxy/proxier.ts';
import { apiServiceSources, serviceInformers } from '../proxy/informers.ts';
import { CommandRunner } from '../proxy/nft.ts';
import { DEFAULT_HEALTHZ_ADDRESS, ProxyHealth, ProxyHealthzServer, ServiceHealthServer } from '../proxy/health.ts';
import { ApiEventSink } from '../controllers/events.ts';
import { realClock } from '../util/clock.ts';
import { ClusterDNS, DEFAULT_CLUSTER_CIDR } from '../dns/component.ts';
import { DNS_LINK, ensureDnsAddress, removeDnsAddress } from '../dns/node-address.ts';

export interface NodeServicesOptions {
  client: ApiClient;
  nodeName: string;
  nodeIP: string;
  podCIDR?: string;
  /** The Service CIDR (default 10.43.0.0/16); the DNS address is its tenth. */
  serviceCIDR?: string;
  clusterCIDR?: string;
  clusterDomain?: string;
  /** Where the DNS forwards names outside the cluster (default /etc/resolv.conf). */
  resolvConf?: string;
  /** false: no proxy on this node (its pods reach no ClusterIP). */
  proxy?: boolean;
  /** false: no DNS on this node. */
  dns?: boolean;
  /** The DNS listener's address (default: the kube-dns ClusterIP on the dummy link). */
  dnsAddress?: { host: string; port: number; link: boolean };
  onProxySync?: (r: SyncRecord) => void;
  /** The proxy's /healthz and /livez (kube-proxy's --healthz-bind-address, default 0.0.0.0:10256); '' for none. */
  healthzBindAddress?: string;
  onError(err: unknown, context: string): void;
}

export interface NodeServices {
  proxier?: Proxier;
  dns?: ClusterDNS;
  /** Where the DNS listens (host and bound port). */
  dnsAddress?: { host: string; port: number };
  stop(): Promise<void>;
}

export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const serviceCIDR = o.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
  const started: NodeServices = { stop: async () => undefined };
  const stops: Array<() => Promise<void>> = [];
  started.stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.onError(err, 'stopping node services'));
    stops.length = 0;
  };
  try {
    // Stopped last (stops run in reverse), after both users are done.
    const informers = serviceInformers(apiServiceSources(o.client), undefined, (err) => o.onError(err, 'service informer'));
    stops.push(() => Promise.all([informers.services.stop(), informers.slices.stop()]).then(() => undefined));
    if (o.dns !== false) {
      const want = o.dnsAddress ?? { host: clusterDNSIP(serviceCIDR), port: 53, link: true };
      if (want.link) {
        await ensureDnsAddress(want.host);
        stops.push(() => removeDnsAddress(DNS_LINK));
      }
      const dns = new ClusterDNS(informers, {
        host: want.host,
        port: want.port,
        zone: o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
        reverseCidrs: [serviceCIDR, o.clusterCIDR ?? DEFAULT_CLUSTER_CIDR],
        serverIP: want.host,
        resolvConf: o.resolvConf,
        log: (msg) => o.onError(new Error(msg), 'dns'),
      });
      const addr = await dns.start();
      stops.push(() => dns.stop());
      started.dns = dns;
      started.dnsAddress = { host: addr.address, port: addr.port };
      informers.services.start();
      informers.slices.start();
    }
    if (o.proxy !== false) {
      const health = new ProxyHealth();
      const events = new ApiEventSink(o.client, realClock, 'kube-proxy');
      const serviceHealth = new ServiceHealthServer({
        nodeName: o.nodeName,
        health,
        events: { serviceWarning: (svc, reason, message) => events.event({ kind: 'Service', ...svc }, 'Warning', reason, message) },
        onError: (err) => o.onError(err, 'proxy'),
      });
      // Stopped after the proxier (stops run in reverse): no sync opens a port once these are closed.
      stops.push(async () => {
        await serviceHealth.stop();
        await events.flush();
      });
      const healthzAddress = o.healthzBindAddress ?? DEFAULT_HEALTHZ_ADDRESS;
      if (healthzAddress) {
        const healthz = new ProxyHealthzServer({ health, address: healthzAddress, onError: (err) => o.onError(err, 'proxy') });
        stops.push(() => healthz.stop());
        await healthz.start();
      }
      const proxier = new Proxier({
        services: informers.services,
        slices: informers.slices,
        node: { name: o.nodeName, addresses: o.nodeIP ? [o.nodeIP] : [], podCIDR: o.podCIDR },
        runner: new CommandRunner(),
        onError: (err) => o.onError(err, 'proxy'),
        onSync: o.onProxySync,
        health,
        serviceHealth,
      });
      informers.services.start();
      informers.slices.start();
      stops.push(async () => {
        const r = await proxier.stop();
        if (!r.ok) throw new Error(`cannot delete the proxy's nftables table: ${r.error}`);
      });
      await proxier.start();
      started.proxier = proxier;
    }
  } catch (err) {
    await started.stop();
    throw err;
  }
  return started;
}
