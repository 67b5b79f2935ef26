// The node's pod network: the CNI conflist the agent writes into its containerd's CNI conf dir
// (bridge + host-local IPAM over the node's podCIDR + portmap for hostPort; `lo` needs no plugin
// entry: containerd's CRI runs the loopback plugin for every pod by itself, and the loopback plugin
// inside a chain would be handed eth0), the node's podCIDR when
// the control plane has not assigned one, and the per-pod /etc/hosts and DNS settings.
//
// PodCIDR choice: the control plane's node IPAM (when there is one) sets node.spec.podCIDR and the
// agent takes it. Otherwise the agent picks a /24 of the cluster CIDR 10.244.0.0/16 from a hash of
// the node name, so the same node always gets the same range across restarts (its pods keep their
// IPs' range), and different names spread over 256 ranges. Two names may hash alike: a node whose
// range is already used by another Node object takes the next free one.
//
// Pure functions except writeConflist and the masquerade rule (ensureMasquerade, removeMasquerade: one
// iptables-save and at most one iptables-restore each). Called by the agent at start and by pod workers.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CLUSTER_DOMAIN } from '../../api/network.ts';

export const CLUSTER_CIDR = '10.244.0.0/16';

/** The /24 of 10.244.0.0/16 a node name maps to, skipping ranges in `taken`. */
export function pickPodCidr(nodeName: string, taken: ReadonlySet<string> = new Set()): string {
  const h = createHash('sha256').update(nodeName).digest();
  const start = h.readUInt16BE(0) % 256;
  for (let i = 0; i < 256; i++) {
    const cidr = `10.244.${(start + i) % 256}.0/24`;
    if (!taken.has(cidr)) return cidr;
  }
  throw new Error('no free /24 left in 10.244.0.0/16');
}

/** "tkbr" + 8 hex of the node name: interface names are limited to 15 characters. */
export function bridgeName(nodeName: string): string {
  return 'tkbr' + createHash('sha256').update(nodeName).digest('hex').slice(0, 8);
}

export interface ConflistOptions {
  name: string;
  bridge: string;
  podCidr: string;
  ipamDataDir: string;
  mtu?: number;
}

function gatewayOf(cidr: string): string {
  const [ip] = cidr.split('/');
  const o = ip.split('.').map(Number);
  o[3] = (o[3] ?? 0) + 1;
  return o.join('.');
}

export function renderConflist(o: ConflistOptions): string {
  const bridge: Record<string, unknown> = {
    type: 'bridge',
    bridge: o.bridge,
    isGateway: true,
    // Pods reach beyond the node through NAT, but with one node-wide rule (ensureMasquerade) rather than
    // the plugin's ipMasq, which builds an iptables chain per pod: measured +13 ms per sandbox start and
    // +47 ms per teardown on these machines.
    ipMasq: false,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: o.podCidr, gateway: gatewayOf(o.podCidr) }]],
      routes: [{ dst: '0.0.0.0/0' }],
      dataDir: o.ipamDataDir,
    },
  };
  if (o.mtu) bridge.mtu = o.mtu;
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: o.name,
    plugins: [bridge, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
  }, null, 2) + '\n';
}

/**
 * Writes the conflist atomically (containerd watches the dir with inotify and would otherwise read a
 * half-written file). The loopback plugin is not listed: containerd's CRI brings `lo` up in every
 * pod itself, and a loopback entry in a chain makes every teardown log an error.
 */
export async function writeConflist(confDir: string, o: ConflistOptions): Promise<string> {
  await mkdir(confDir, { recursive: true });
  const file = join(confDir, '10-tinykube.conflist');
  const tmp = `${file}.tmp`;
  await writeFile(tmp, renderConflist(o));
  await rename(tmp, file);
  return file;
}

/** /etc/hosts of a pod (pkg/kubelet/kubelet_pods.go managedHostsFileContent). */
export function hostsFile(podIPs: readonly string[], hostname: string, subdomain?: string, namespace?: string, hostAliases: readonly { ip?: string; hostnames?: string[] }[] = [], clusterDomain = DEFAULT_CLUSTER_DOMAIN): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  for (const ip of podIPs) {
    lines.push(subdomain && namespace ? `${ip}\t${hostname}.${subdomain}.${namespace}.svc.${clusterDomain}\t${hostname}` : `${ip}\t${hostname}`);
  }
  if (hostAliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of hostAliases) if (a.ip) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

/** Where the masquerade rule goes: the cluster's pod network, and the network namespace (tests; default this process's). */
export interface MasqueradeOptions {
  /** Traffic to it keeps its pod source address (default CLUSTER_CIDR). */
  clusterCidr?: string;
  netns?: string;
}

/** The rule's match and target, as iptables-save prints them after "-A POSTROUTING" (one argv each). */
function masqueradeRule(podCidr: string, bridge: string, clusterCidr: string): string[] {
  // Pods reach pods on every node by their own address (no NAT between pods, as Kubernetes' network
  // model asks and flannel does): only traffic leaving the cluster's pod network is masqueraded.
  return ['-s', podCidr, '!', '-d', clusterCidr, '-m', 'comment', '--comment', `tinykube ${bridge}`, '-j', 'MASQUERADE'];
}

/** The rule agents before the pod network between nodes added: it masqueraded traffic to other nodes' pods too. */
function legacyMasqueradeRule(podCidr: string, bridge: string): string[] {
  return masqueradeRule(podCidr, bridge, podCidr);
}

// The rules are read with one iptables-save and changed with one iptables-restore --noflush (one
// transaction of the nat table, other rules untouched), instead of an iptables run per check, add and
// delete: each spawn is 10-30 ms of a starting agent, and the rule is on its way to Ready.
function ipt(cmd: 'iptables-save' | 'iptables-restore', args: string[], netns?: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = netns ? ['nsenter', `--net=/run/netns/${netns}`, cmd, ...args] : [cmd, ...args];
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stdout: String(stdout), stderr: String(stderr) || (err?.message ?? '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The words of an iptables-save rule line: double-quoted words (a comment with spaces) unquoted. */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return words;
}

/** One rule of a restore file: words with spaces (the comment) double-quoted, as iptables-save writes them. */
function ruleLine(op: '-A' | '-D', rule: readonly string[]): string {
  return [op, 'POSTROUTING', ...rule.map((w) => (/[\s"\\]/.test(w) ? `"${w.replace(/["\\]/g, '\\$&')}"` : w))].join(' ');
}

/** How many times each rule is in the nat table's POSTROUTING chain. */
async function countRules(rules: readonly string[][], netns?: string): Promise<number[]> {
  const r = await ipt('iptables-save', ['-t', 'nat'], netns);
  if (r.code !== 0) throw new Error(`iptables-save: cannot read the nat table: ${r.stderr.trim()}`);
  const counts = rules.map(() => 0);
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('-A POSTROUTING ')) continue;
    const words = splitRuleLine(line).slice(2);
    rules.forEach((rule, i) => {
      if (words.length === rule.length && words.every((w, j) => w === rule[j])) counts[i]!++;
    });
  }
  return counts;
}

async function restore(lines: readonly string[], what: string, netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const r = await ipt('iptables-restore', ['-w', '--noflush'], netns, ['*nat', ...lines, 'COMMIT', ''].join('\n'));
  if (r.code !== 0) throw new Error(`iptables: cannot ${what}: ${r.stderr.trim()}`);
}

/**
 * Adds the node's MASQUERADE rule for its pod range, once (idempotent), and removes the rule an
 * earlier agent added (which also masqueraded traffic to other nodes' pods) when the two differ.
 */
export async function ensureMasquerade(podCidr: string, bridge: string, o: MasqueradeOptions = {}): Promise<void> {
  const clusterCidr = o.clusterCidr ?? CLUSTER_CIDR;
  const rule = masqueradeRule(podCidr, bridge, clusterCidr);
  const legacy = clusterCidr !== podCidr ? legacyMasqueradeRule(podCidr, bridge) : undefined;
  const [have = 0, legacies = 0] = await countRules(legacy ? [rule, legacy] : [rule], o.netns);
  // A rule added twice (by an older agent) is removed twice.
  const lines = Array.from({ length: legacies }, () => ruleLine('-D', legacy!));
  if (have === 0) lines.push(ruleLine('-A', rule));
  await restore(lines, 'add the pod masquerade rule', o.netns);
}

/**
 * Removes the node's MASQUERADE rule, and an earlier agent's (when the node is drained and its bridge
 * removed). Idempotent; best effort, as the rest of a drained node's teardown: a failure is ignored.
 */
export async function removeMasquerade(podCidr: string, bridge: string, o: MasqueradeOptions = {}): Promise<void> {
  const rules = [masqueradeRule(podCidr, bridge, o.clusterCidr ?? CLUSTER_CIDR), legacyMasqueradeRule(podCidr, bridge)];
  // With clusterCidr equal to podCidr the two are one rule: counted once.
  if (rules[0]!.join(' ') === rules[1]!.join(' ')) rules.pop();
  try {
    const counts = await countRules(rules, o.netns);
    await restore(rules.flatMap((rule, i) => Array.from({ length: counts[i]! }, () => ruleLine('-D', rule))), 'remove the pod masquerade rule', o.netns);
  } catch {
    // nothing more to do for a node that is going away
  }
}
