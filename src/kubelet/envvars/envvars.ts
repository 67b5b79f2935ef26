// Service environment variables, as the kubelet gives every container (pkg/kubelet/envvars/envvars.go
// FromServices and kubelet_pods.go getServiceEnvVarMap): for each Service with a cluster IP,
// `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (the first port), `<NAME>_SERVICE_PORT_<PORTNAME>` for
// each named port, and Docker's link variables `<NAME>_PORT` (the first port's URL) and
// `<NAME>_PORT_<port>_<PROTO>` with `_PROTO`, `_PORT` and `_ADDR`. NAME is the Service's name
// upper-cased with `-` and `.` as `_` (and a leading `_` before a digit).
//
// Which Services: those of the pod's namespace when pod.spec.enableServiceLinks is true (the default),
// and `default/kubernetes` always, whatever enableServiceLinks says (in-cluster clients read
// KUBERNETES_SERVICE_HOST); with service links on, a Service named `kubernetes` in the pod's own
// namespace takes the place of the default one (the kubelet keeps a master service only where the
// name is not taken yet, and lets the pod's namespace overwrite). Services without a cluster IP (headless `None`, ExternalName) give nothing.
//
// Pure; the agent's service informer is its ServiceLister (src/kubelet/agent.ts).
import type { Service } from '../../api/types.ts';

/**
 * The Services the agent knows. Called by pod workers, concurrently, before each container start.
 * hasSynced() is false until the first complete list: the kubelet refuses to build an environment
 * before then, so a pod started right after an agent restart still gets KUBERNETES_SERVICE_HOST.
 */
export interface ServiceLister {
  hasSynced(): boolean;
  /** Every Service the agent caches (all namespaces). */
  list(): readonly Service[];
}

/** The kubelet's error when services were never listed; the container waits in CreateContainerConfigError. */
export const SERVICES_NOT_SYNCED = 'services have not yet been read at least once, cannot construct envvars';

/** The master services (kubelet's masterServices) of the master service namespace. */
const MASTER_NAMESPACE = 'default';
const MASTER_SERVICES = new Set(['kubernetes']);

export interface EnvVarPair {
  name: string;
  value: string;
}

/** makeEnvVariableName: `redis-primary` → `REDIS_PRIMARY`, `3d.web` → `_3D_WEB`. */
export function envVarName(s: string): string {
  const n = s.replaceAll('.', '_').replaceAll('-', '_').toUpperCase();
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/** v1helper.IsServiceIPSet: a cluster IP that is neither empty nor `None`. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** FromServices: the variables of each Service in order (Services without a cluster IP are skipped). */
export function fromServices(services: readonly Service[]): EnvVarPair[] {
  const out: EnvVarPair[] = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    if (!isServiceIPSet(svc) || ports.length === 0) continue;
    const ip = svc.spec!.clusterIP!;
    const prefix = envVarName(svc.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envVarName(p.name)}`, value: String(p.port) });
    for (const [i, p] of ports.entries()) {
      const proto = p.protocol || 'TCP';
      const url = `${proto.toLowerCase()}://${ip}:${p.port}`;
      // Docker's links name the first port's URL on its own.
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url });
      out.push({ name: `${pp}_PROTO`, value: proto.toLowerCase() });
      out.push({ name: `${pp}_PORT`, value: String(p.port) });
      out.push({ name: `${pp}_ADDR`, value: ip });
    }
  }
  return out;
}

/**
 * getServiceEnvVarMap: the service variables a container of a pod in `namespace` sees, in a stable
 * order (Services by name; the kubelet's order is a Go map's, i.e. none).
 */
export function serviceEnvVars(services: readonly Service[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? '';
    if (ns === MASTER_NAMESPACE && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (ns === namespace && enableServiceLinks) chosen.set(name, svc);
  }
  const ordered = [...chosen.values()].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  return new Map(fromServices(ordered).map((e) => [e.name, e.value]));
}
