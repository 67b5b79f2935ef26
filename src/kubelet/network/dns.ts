// A pod's DNS resolver settings (the CRI DNSConfig that becomes the sandbox's /etc/resolv.conf), as
// the kubelet's dns.Configurer computes them (pkg/kubelet/network/dns/dns.go):
// - ClusterFirst: the cluster DNS addresses only, the search list `<ns>.svc.<domain> svc.<domain>
//   <domain>` followed by the node's own search domains, and `options ndots:5` (the node's options
//   are dropped). On a hostNetwork pod it falls back to Default; ClusterFirstWithHostNet does not.
// - Default: the node's resolv.conf as it is.
// - None: nothing but pod.spec.dnsConfig.
// - An agent without cluster DNS turns ClusterFirst into Default, with the kubelet's MissingClusterDNS
//   warnings on the node and on the pod.
// Then pod.spec.dnsConfig is merged in (nameservers and searches appended without duplicates, options
// replacing the node's of the same name) and the result cut to the resolver's limits (3 nameservers,
// 32 search domains of at most 253 characters, 2048 characters in all), with a DNSConfigForming
// warning when something had to go.
//
// podDns is pure (tests call it with a parsed resolv.conf); PodDnsConfigurer reads the node's file
// and records the warnings. Called by pod workers, concurrently; it keeps no state.
import { readFileSync } from 'node:fs';
import type { Pod } from '../../api/types.ts';
import type { DNSConfig } from '../runtime/runtime.ts';
import { DEFAULT_CLUSTER_DOMAIN } from '../../api/network.ts';
import { podRef, type EventRecorder, type InvolvedObject } from '../events/recorder.ts';

/** validation.MaxDNSNameservers, MaxDNSSearchPathsExpanded, MaxDNSSearchListCharsExpanded (ExpandedDNSConfig is GA). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_LIST_CHARS = 2048;
/** A search domain longer than a DNS-1123 subdomain makes some resolvers (glibc 2.28) abort: dropped. */
const MAX_SEARCH_DOMAIN_CHARS = 253;
/** The kubelet's defaultDNSOptions for ClusterFirst. */
const CLUSTER_FIRST_OPTIONS = ['ndots:5'];

export type ResolvConf = Required<DNSConfig>;

/**
 * Parses resolv.conf as the kubelet does: nameservers accumulate, the last `search` line and the last
 * `options` line win, a search domain's trailing dot is dropped (so `a.` and `a` count once).
 */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const [k, ...rest] = line.split(/\s+/);
    if (k === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (k === 'search') out.searches = rest.map((s) => (s.endsWith('.') ? s.slice(0, -1) : s));
    else if (k === 'options') out.options = rest;
  }
  return out;
}

export interface DnsSettings {
  /** The cluster DNS addresses (the kubelet's --cluster-dns); empty = none configured. */
  clusterDNS: readonly string[];
  /** The kubelet's --cluster-domain; empty = no cluster search domains. */
  clusterDomain: string;
}

/** A warning the kubelet records as an Event: on the pod, or on the node (`node: true`). */
export interface DnsWarning {
  node: boolean;
  reason: 'MissingClusterDNS' | 'DNSConfigForming';
  message: string;
}

export interface PodDns {
  config: Required<DNSConfig>;
  warnings: DnsWarning[];
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

type Policy = 'cluster' | 'host' | 'none';

function policyOf(pod: Pod): Policy {
  switch (pod.spec?.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'Default':
      return 'host';
    case 'ClusterFirst':
      return pod.spec?.hostNetwork ? 'host' : 'cluster';
    default:
      // The API server refuses other values; the kubelet falls back to ClusterFirst.
      return 'cluster';
  }
}

/** Existing options overridden by name by the pod's (the kubelet's mergeDNSOptions, in a stable order). */
function mergeOptions(existing: readonly string[], pods: readonly { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of existing) {
    const i = o.indexOf(':');
    if (i >= 0) byName.set(o.slice(0, i), o.slice(i + 1));
    else byName.set(o, '');
  }
  for (const o of pods) byName.set(o.name ?? '', o.value ?? '');
  return [...byName].map(([name, value]) => (value !== '' ? `${name}:${value}` : name));
}

function fitSearches(searches: string[], warnings: DnsWarning[]): string[] {
  let exceeded = false;
  let out = searches;
  if (out.length > MAX_SEARCH_PATHS) {
    out = out.slice(0, MAX_SEARCH_PATHS);
    exceeded = true;
  }
  const short = out.filter((s) => s.length <= MAX_SEARCH_DOMAIN_CHARS);
  if (short.length !== out.length) exceeded = true;
  out = short;
  let len = out.join(' ').length;
  while (len > MAX_SEARCH_LIST_CHARS && out.length > 0) {
    len -= out[out.length - 1].length + 1;
    out = out.slice(0, -1);
    exceeded = true;
  }
  if (exceeded) {
    warnings.push({ node: false, reason: 'DNSConfigForming', message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}` });
  }
  return out;
}

/** The pod's DNS settings over the node's parsed resolv.conf (`host`), and the warnings to record. */
export function podDns(pod: Pod, settings: DnsSettings, host: ResolvConf): PodDns {
  const warnings: DnsWarning[] = [];
  const policy = policyOf(pod);
  let cfg: ResolvConf = { servers: [...host.servers], searches: [...host.searches], options: [...host.options] };
  if (policy === 'none') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'cluster') {
    if (settings.clusterDNS.length > 0) {
      const ns = pod.metadata?.namespace ?? 'default';
      const d = settings.clusterDomain;
      cfg = {
        servers: [...settings.clusterDNS],
        searches: d ? unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches]) : cfg.searches,
        options: [...CLUSTER_FIRST_OPTIONS],
      };
    } else {
      const msg = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
      const who = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})`;
      warnings.push({ node: true, reason: 'MissingClusterDNS', message: msg });
      warnings.push({ node: false, reason: 'MissingClusterDNS', message: `pod: "${who}". ${msg}` });
      // Falls back to Default: `cfg` already holds the node's settings.
    }
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg.servers = unique([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = unique([...cfg.searches, ...(extra.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, extra.options ?? []);
  }
  if (cfg.servers.length > MAX_NAMESERVERS) {
    cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
    warnings.push({ node: false, reason: 'DNSConfigForming', message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.servers.join(' ')}` });
  }
  cfg.searches = fitSearches(cfg.searches, warnings);
  return { config: cfg, warnings };
}

export interface PodDnsConfigurerOptions extends Partial<DnsSettings> {
  nodeName: string;
  /** The node's resolver file (the kubelet's --resolv-conf; default /etc/resolv.conf). */
  resolvConf?: string;
  /** Reads the node's resolver settings (tests); default: parse `resolvConf`, empty when unreadable. */
  readHost?: () => ResolvConf;
  recorder?: EventRecorder;
}

/** The agent's pod DNS: its cluster DNS settings, the node's resolv.conf, and the warnings recorded as Events. */
export class PodDnsConfigurer {
  readonly settings: DnsSettings;
  readonly #readHost: () => ResolvConf;
  readonly #recorder: EventRecorder | undefined;
  readonly #nodeRef: InvolvedObject;

  constructor(o: PodDnsConfigurerOptions) {
    this.settings = { clusterDNS: o.clusterDNS ?? [], clusterDomain: o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN };
    const file = o.resolvConf ?? '/etc/resolv.conf';
    this.#readHost = o.readHost ?? (() => readResolvConf(file));
    this.#recorder = o.recorder;
    // The kubelet's nodeRef: a Node whose UID is its name.
    this.#nodeRef = { kind: 'Node', apiVersion: 'v1', name: o.nodeName, uid: o.nodeName };
  }

  /** The pod's sandbox DNSConfig; records the kubelet's warnings for it. */
  forPod(pod: Pod): Required<DNSConfig> {
    const r = podDns(pod, this.settings, this.#readHost());
    for (const w of r.warnings) this.#recorder?.event(w.node ? this.#nodeRef : podRef(pod), 'Warning', w.reason, w.message);
    return r.config;
  }
}

/** The node's resolver settings; a missing or unreadable file counts as empty (no nameserver). */
export function readResolvConf(file: string): ResolvConf {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}
