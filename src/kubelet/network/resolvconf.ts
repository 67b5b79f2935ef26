// The node's resolver file: what pods with dnsPolicy Default get, and where the node's cluster DNS
// forwards names outside the cluster (the kubelet's --resolv-conf).
//
// A host running systemd-resolved (or dnsmasq) has only a loopback nameserver in /etc/resolv.conf
// (127.0.0.53). Inside a pod, or inside a node of `up --nodes` (its own network namespace), loopback
// is another machine's loopback and nothing answers there. kubeadm and k3s then use systemd-resolved's
// list of real upstreams, /run/systemd/resolve/resolv.conf; so does this. When no file has a usable
// nameserver the default is kept with a warning (k3s writes 8.8.8.8 instead; this never sends a
// machine's queries somewhere it was not told to).
import { readFileSync } from 'node:fs';

export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';
export const SYSTEMD_RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';

export interface ResolvConfChoice {
  path: string;
  /** Said once at start when the chosen file cannot serve pods (only loopback resolvers, or unreadable). */
  warning?: string;
}

/** The nameserver addresses of a resolv.conf text, in order. */
export function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** True when the file names at least one nameserver a network namespace other than the host's can reach. */
function usable(text: string | undefined): boolean {
  return text !== undefined && nameservers(text).some((a) => !isLoopback(a));
}

export function chooseResolvConf(explicit: string | undefined, read: (path: string) => string | undefined = readText): ResolvConfChoice {
  if (explicit !== undefined) return { path: explicit };
  const main = read(DEFAULT_RESOLV_CONF);
  if (usable(main)) return { path: DEFAULT_RESOLV_CONF };
  if (usable(read(SYSTEMD_RESOLVED_UPSTREAMS))) return { path: SYSTEMD_RESOLVED_UPSTREAMS };
  const why = main === undefined ? `${DEFAULT_RESOLV_CONF} cannot be read` : `${DEFAULT_RESOLV_CONF} names only loopback resolvers (${nameservers(main).join(', ') || 'none'})`;
  return { path: DEFAULT_RESOLV_CONF, warning: `${why} and ${SYSTEMD_RESOLVED_UPSTREAMS} has none either: pods with dnsPolicy Default, and names outside the cluster, will not resolve; pass --resolv-conf FILE` };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
