// services/proxy: where a request to /services/[SCHEME:]NAME[:PORT]/proxy/... goes, as
// kube-apiserver's Service ResourceLocation decides it: a port number is turned into the name of the
// Service port with that number (none: 503 "no service port N found"), then a random ready address
// of the Service's Endpoints that serves that port name is picked, starting from a random subset;
// an address that names no pod, or whose pod is gone or no longer has that IP, is skipped. No Endpoints: 404; no address:
// 503 "no endpoints available for service ...".

import type { Endpoints, Pod, Service } from '../../../api/types.ts';
import type { ProxyLocation, ProxyLookup, ProxyRefusal, ProxyRequest, ProxyTarget } from '../../kind.ts';

/** isValidAddress: the address names a pod of the Service's namespace that still exists and still has that IP. */
async function validAddress(addr: NonNullable<NonNullable<Endpoints['subsets']>[number]['addresses']>[number], namespace: string | undefined, lookup: ProxyLookup): Promise<boolean> {
  const ref = addr.targetRef;
  // Addresses without a pod (the kubernetes Service's, or written by hand) are skipped, as kube-apiserver does.
  if (!ref || ref.namespace !== namespace) return false;
  const pod = (await lookup.get('pods', '', ref.namespace, ref.name ?? '')) as Pod | undefined;
  return (pod?.status?.podIPs ?? []).some((p) => p.ip === addr.ip);
}

/** `random` returns a number in [0, 1) (Math.random; tests pass their own). */
export function serviceProxyTarget(random: () => number = Math.random): ProxyTarget<Service> {
  const intn = (n: number) => Math.floor(random() * n);
  return {
    async location(svc: Service, want: ProxyRequest, lookup?: ProxyLookup): Promise<ProxyLocation | ProxyRefusal> {
      const name = svc.metadata?.name ?? '';
      const id = [want.scheme, name, want.port].filter((x, i) => x !== '' || i === 1).join(':');
      let portName = want.port;
      if (/^\d+$/.test(want.port)) {
        const sp = (svc.spec?.ports ?? []).find((p) => p.port === Number(want.port));
        if (!sp) return { unavailable: `no service port ${Number(want.port)} found for service ${JSON.stringify(name)}` };
        portName = sp.name ?? '';
      }
      const ep = lookup ? ((await lookup.get('endpoints', '', svc.metadata?.namespace, name)) as Endpoints | undefined) : undefined;
      if (!ep || !lookup) return { notFound: { resource: 'endpoints', name } };
      const subsets = ep.subsets ?? [];
      if (subsets.length === 0) return { unavailable: `no endpoints available for service ${JSON.stringify(name)}` };
      const ssSeed = intn(subsets.length);
      for (let i = 0; i < subsets.length; i++) {
        const ss = subsets[(ssSeed + i) % subsets.length]!;
        const addrs = ss.addresses ?? [];
        if (addrs.length === 0) continue;
        for (const port of ss.ports ?? []) {
          if ((port.name ?? '') !== portName) continue;
          const addrSeed = intn(addrs.length);
          for (let t = 0; t < addrs.length; t++) {
            const addr = addrs[(addrSeed + t) % addrs.length]!;
            if (!(await validAddress(addr, svc.metadata?.namespace, lookup))) continue;
            return { to: 'address', scheme: want.scheme === 'https' ? 'https' : 'http', host: addr.ip, port: String(port.port) };
          }
        }
      }
      return { unavailable: `no endpoints available for service ${JSON.stringify(id)}` };
    },
  };
}

export const serviceProxy = serviceProxyTarget();
