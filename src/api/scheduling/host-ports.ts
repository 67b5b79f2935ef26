// Host ports as the scheduler's NodePorts and the kubelet's admission see them (framework.HostPortInfo
// and getContainerPorts): which address, protocol and port each pod binds on its node.

import type { Pod } from '../types.ts';

export interface HostPort {
  /** "0.0.0.0" when the container did not name an address. */
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

/** A pod's host ports, app containers only, as Kubernetes' getContainerPorts counts them. */
export function podHostPorts(pod: Pod): HostPort[] {
  const hostPorts: HostPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return hostPorts;
}

/** Host ports in use by ip → "PROTO/port" → number of pods using it. */
export class HostPortInfo {
  readonly #byIp = new Map<string, Map<string, number>>();

  add(p: HostPort): void {
    let m = this.#byIp.get(p.ip);
    if (!m) this.#byIp.set(p.ip, (m = new Map()));
    const k = `${p.protocol}/${p.port}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  remove(p: HostPort): void {
    const m = this.#byIp.get(p.ip);
    if (!m) return;
    const k = `${p.protocol}/${p.port}`;
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
    if (m.size === 0) this.#byIp.delete(p.ip);
  }

  /** HostPortInfo.CheckConflict: 0.0.0.0 conflicts with the same protocol/port on any address. */
  conflicts(p: HostPort): boolean {
    if (p.port <= 0) return false;
    const k = `${p.protocol}/${p.port}`;
    if (p.ip === '0.0.0.0') {
      for (const m of this.#byIp.values()) if (m.has(k)) return true;
      return false;
    }
    return Boolean(this.#byIp.get('0.0.0.0')?.has(k) || this.#byIp.get(p.ip)?.has(k));
  }

  get size(): number {
    return this.#byIp.size;
  }
}
