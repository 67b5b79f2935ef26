// `tinykube up --nodes N`: N nodes on one machine, each a network namespace with its own address on a
// bridge the host owns, and its own agent process (with its own containerd, CNI state, proxy table and
// DNS address) started inside that namespace, as kind and k3d do with containers but without Docker.
//
// A namespace node is a machine in every respect the agent can see: it joins with the node token over
// the bridge (the API server also listens on the bridge's address, its advertise address), registers
// with its own InternalIP, and gets its podCIDR from the control plane. Pods on different nodes reach
// each other through the agents' overlay; the host reaches every pod through routes to the pod CIDRs
// via the nodes' addresses (HostPodRoutes).
//
// Only the network namespace is entered (nsenter --net), not a mount namespace: containerd's mounts
// and the agents' volume mounts live in the host's mount table as with one node, and are removed by
// the agents when they drain. Each agent is started under `setpriv --pdeathsig TERM`, so a `kill -9`
// of `tinykube up` still stops (and drains) its nodes; the namespaces and the bridge are then adopted
// by the next `tinykube up --nodes` with the same data dir (set-up is idempotent).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningMainFile } from '../util/main-file.ts';
import { formatIPv4, parseIPv4, parseIPv4Cidr } from '../api/network.ts';
import type { Node } from '../api/types.ts';
import type { ApiClient } from '../client/client.ts';
import { Informer, listWatch } from '../client/informer.ts';
import { Nodes } from '../client/resources.ts';
import { CgroupfsPodCgroups } from '../kubelet/cgroups/pod-cgroups.ts';

/** The node network of `up --nodes` when --node-cidr is not given. */
export const DEFAULT_NODE_CIDR = '10.45.0.0/24';

export interface NamespaceNode {
  /** Node name (the first keeps the base name, the others get -m02, -m03… as minikube's). */
  name: string;
  /** The network namespace (/run/netns/<netns>). */
  netns: string;
  /** The host's end of the node's veth (the node's end is eth0 inside the namespace). */
  hostVeth: string;
  /** The node's address on the bridge. */
  ip: string;
}

export interface NodeNetworkPlan {
  /** Short hash of the data dir: link and namespace names of two clusters on one host differ. */
  id: string;
  bridge: string;
  /** The host's address on the bridge: the nodes' gateway and the API server's advertise address. */
  hostIP: string;
  prefix: number;
  cidr: string;
  /** nftables table (inet) holding the masquerade of the nodes' traffic leaving the host. */
  nftTable: string;
  nodes: NamespaceNode[];
}

export class NodeNetworkError extends Error {}

/** Node names as minikube's multi-node: `base`, `base-m02`, `base-m03`… */
export function namespaceNodeNames(base: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base}-m${String(i + 1).padStart(2, '0')}`));
}

/**
 * Names and addresses for `count` nodes. The host takes the first address of the CIDR, node i the
 * (i+1)th. Interface names stay within the kernel's 15 characters.
 */
export function planNodeNetwork(dataDir: string, base: string, count: number, cidr = DEFAULT_NODE_CIDR): NodeNetworkPlan {
  const { base: net, prefix } = parseIPv4Cidr(cidr);
  if (prefix > 29) throw new NodeNetworkError(`--node-cidr ${cidr}: too small, a /29 or larger is needed`);
  const size = 2 ** (32 - prefix);
  if (count + 2 > size - 1) throw new NodeNetworkError(`--node-cidr ${cidr} holds ${size - 3} nodes, ${count} asked`);
  if (count > 99) throw new NodeNetworkError('--nodes: at most 99 nodes on one machine');
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 4);
  const nodes = namespaceNodeNames(base, count).map((name, i) => ({
    name,
    netns: `tinykube-${id}-${i + 1}`,
    hostVeth: `tk${id}n${i + 1}`,
    ip: formatIPv4(net + 2 + i),
  }));
  return { id, bridge: `tk${id}br`, hostIP: formatIPv4(net + 1), prefix, cidr: `${formatIPv4(net)}/${prefix}`, nftTable: `tinykube-nodes-${id}`, nodes };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 127 ? err.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(cmd: string, args: readonly string[], what: string, input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new NodeNetworkError(`${what}: ${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

interface IpRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
}

/** The host's routes that overlap `cidr` on another link than ours: two networks on one range fail in odd ways. */
export function conflictingRoutes(routes: readonly IpRoute[], cidr: string, ownBridge: string): IpRoute[] {
  const { base, prefix } = parseIPv4Cidr(cidr);
  return routes.filter((r) => {
    if (r.dev === ownBridge || r.dst === 'default') return false;
    const [addr, bits] = r.dst.split('/');
    const a = parseIPv4(addr ?? '');
    if (a === undefined) return false;
    const p = bits === undefined ? 32 : Number(bits);
    const shorter = Math.min(p, prefix);
    const mask = shorter === 0 ? 0 : (0xffffffff << (32 - shorter)) >>> 0;
    return ((a & mask) >>> 0) === ((base & mask) >>> 0);
  });
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  // The host's own links are in its sysfs: no `ip` run (10-20 ms of this process' one thread) to know.
  if (!netns) return existsSync(join('/sys/class/net', name));
  return (await run('ip', ['-n', netns, 'link', 'show', 'dev', name])).code === 0;
}

async function netnsExists(name: string): Promise<boolean> {
  return (await run('ip', ['netns', 'exec', name, 'true'])).code === 0;
}

// The node network is made in two steps (up starts the control plane between them): setupNodeBridge,
// then setupNodeNamespaces. Both make or adopt what they find: after a crash, a second run with the
// same plan changes nothing that is already right.

/** The bridge and the host's address on it (what the API server listens on); refuses a clashing range. */
export async function setupNodeBridge(plan: NodeNetworkPlan): Promise<void> {
  const routes = JSON.parse((await run('ip', ['-j', 'route', 'show'])).stdout || '[]') as IpRoute[];
  const clash = conflictingRoutes(routes, plan.cidr, plan.bridge);
  if (clash.length > 0) {
    throw new NodeNetworkError(`the node network ${plan.cidr} overlaps ${clash.map((r) => `${r.dst} on ${r.dev ?? '?'}`).join(', ')} on this host: choose another with --node-cidr`);
  }
  await must('ip', ['-batch', '-'], 'creating the node bridge', [
    ...((await linkExists(plan.bridge)) ? [] : [`link add ${plan.bridge} type bridge`]),
    `addr replace ${plan.hostIP}/${plan.prefix} dev ${plan.bridge}`,
    `link set ${plan.bridge} up`,
  ].join('\n') + '\n');
}

/** The nodes' namespaces on the bridge, and the host's masquerade for them (after setupNodeBridge). */
export async function setupNodeNamespaces(plan: NodeNetworkPlan): Promise<void> {
  // Each spawn costs the up process (a big heap to fork) 10-20 ms of its one thread (~0.8 s of a 3-node
  // start went to spawning, profiled): new nodes are one `ip -batch` on the host for all of them, then one
  // in each namespace, side by side, and the masquerade table meanwhile.
  const fresh = plan.nodes.filter((n) => !existsSync(join('/run/netns', n.netns)) && !existsSync(join('/sys/class/net', n.hostVeth)));
  const nodes = async () => {
    if (fresh.length > 0) {
      await must('ip', ['-batch', '-'], `creating node${fresh.length > 1 ? 's' : ''} ${fresh.map((n) => n.name).join(', ')}`, fresh.flatMap((n) => [
        `netns add ${n.netns}`,
        `link add ${n.hostVeth} type veth peer name ${peerName(plan, n)} netns ${n.netns}`,
        `link set ${n.hostVeth} master ${plan.bridge} up`,
      ]).join('\n') + '\n');
    }
    await Promise.all(plan.nodes.map((n) => (fresh.includes(n) ? configureNewNode(plan, n) : repairNode(plan, n))));
  };
  await Promise.all([nodes(), setupHostMasquerade(plan)]);
}

function peerName(plan: NodeNetworkPlan, n: NamespaceNode): string {
  return `tk${plan.id}p${plan.nodes.indexOf(n) + 1}`;
}

// Forwarding inside a node is not set here: the agent's pod network turns it on (the overlay, and the
// CNI bridge plugin as the pods' gateway), as on a machine that joins.
async function configureNewNode(plan: NodeNetworkPlan, n: NamespaceNode): Promise<void> {
  await must('ip', ['-n', n.netns, '-batch', '-'], `configuring node ${n.name}`, [
    `link set ${peerName(plan, n)} name eth0`,
    'link set lo up',
    `addr replace ${n.ip}/${plan.prefix} dev eth0`,
    'link set eth0 up',
    `route replace default via ${plan.hostIP} dev eth0`,
  ].join('\n') + '\n');
}

/** What an earlier run left (a crash): checked and fixed step by step. */
async function repairNode(plan: NodeNetworkPlan, n: NamespaceNode): Promise<void> {
  if (!(await netnsExists(n.netns))) await must('ip', ['netns', 'add', n.netns], `creating the namespace of node ${n.name}`);
  if (!(await linkExists('eth0', n.netns))) {
    // A host end left from an earlier run without its peer goes first.
    if (await linkExists(n.hostVeth)) await must('ip', ['link', 'del', n.hostVeth], `removing a stale link of node ${n.name}`);
    const peer = peerName(plan, n);
    await must('ip', ['link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', peer, 'netns', n.netns], `linking node ${n.name}`);
    await must('ip', ['-n', n.netns, 'link', 'set', peer, 'name', 'eth0'], `naming eth0 of node ${n.name}`);
  }
  await must('ip', ['link', 'set', n.hostVeth, 'master', plan.bridge, 'up'], `attaching node ${n.name} to the bridge`);
  await must('ip', ['-n', n.netns, 'link', 'set', 'lo', 'up'], `bringing up lo of node ${n.name}`);
  await must('ip', ['-n', n.netns, 'addr', 'replace', `${n.ip}/${plan.prefix}`, 'dev', 'eth0'], `addressing node ${n.name}`);
  await must('ip', ['-n', n.netns, 'link', 'set', 'eth0', 'up'], `bringing up eth0 of node ${n.name}`);
  await must('ip', ['-n', n.netns, 'route', 'replace', 'default', 'via', plan.hostIP, 'dev', 'eth0'], `routing node ${n.name}`);
}

async function setupHostMasquerade(plan: NodeNetworkPlan): Promise<void> {
  // Nodes pull images and pods reach the world through the host: their traffic leaving by another link
  // than the bridge is masqueraded to the host's address, as a home router (kind's nodes go through
  // Docker's NAT the same way). Pods' traffic is already masqueraded to the node address by each node.
  const t = plan.nftTable;
  await must('nft', ['-f', '-'], 'the node network masquerade', [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr ${plan.cidr} oifname != "${plan.bridge}" masquerade`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    `    iifname "${plan.bridge}" accept`,
    `    oifname "${plan.bridge}" ct state established,related accept`,
    `  }`,
    `}`,
  ].join('\n') + '\n');
  if ((await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '1')).trim() !== '1') {
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1\n').catch((err: unknown) => {
      console.error(`tinykube: cannot turn on IPv4 forwarding (nodes will not reach beyond this host): ${(err as Error).message}`);
    });
  }
}

/** Removes what setupNodeBridge and setupNodeNamespaces made: namespaces (their links and routes go with them), the bridge, the table. */
export async function teardownNodeNetwork(plan: NodeNetworkPlan): Promise<string[]> {
  const problems: string[] = [];
  for (const n of plan.nodes) {
    if (await netnsExists(n.netns)) {
      const r = await run('ip', ['netns', 'del', n.netns]);
      if (r.code !== 0) problems.push(`namespace ${n.netns}: ${r.stderr.trim()}`);
    }
    if (await linkExists(n.hostVeth)) await run('ip', ['link', 'del', n.hostVeth]);
  }
  if (await linkExists(plan.bridge)) {
    const r = await run('ip', ['link', 'del', plan.bridge]);
    if (r.code !== 0) problems.push(`bridge ${plan.bridge}: ${r.stderr.trim()}`);
  }
  await run('nft', ['delete', 'table', 'ip', plan.nftTable]);
  return problems;
}

/** What a sync of the host's routes to the nodes' pod ranges does (HostPodRoutes). */
export interface PodRoutesPlan {
  /** `ip` batch lines removing this bridge's routes no node asks for any more. */
  stale: string[];
  /** `ip` batch lines adding the new routes (`add`: the kernel refuses one another link holds) and moving changed ones (`replace`). */
  set: string[];
  /** Ranges another link routes: left to it. */
  conflicts: Array<{ dst: string; link: string }>;
  /** This bridge's routes once the lines have run. */
  after: Map<string, string>;
}

/** Whether `want` (range → node address) routes a range to every node of the plan. */
export function coversPlan(want: ReadonlyMap<string, string>, plan: Pick<NodeNetworkPlan, 'nodes'>): boolean {
  const routed = new Set(want.values());
  return plan.nodes.every((n) => routed.has(n.ip));
}

/**
 * The changes from `ours` (this bridge's routes, range → gateway) to `want`, leaving alone the ranges
 * `others` (range → link) already route.
 */
export function planPodRoutes(want: ReadonlyMap<string, string>, ours: ReadonlyMap<string, string>, others: ReadonlyMap<string, string>, bridge: string): PodRoutesPlan {
  const staleRanges = [...ours.keys()].filter((dst) => !want.has(dst));
  const after = new Map([...ours].filter(([dst]) => want.has(dst)));
  const set: string[] = [];
  const conflicts: Array<{ dst: string; link: string }> = [];
  for (const [dst, via] of want) {
    if (ours.get(dst) === via) continue;
    const link = others.get(dst);
    if (link !== undefined) {
      conflicts.push({ dst, link });
      continue;
    }
    set.push(`route ${ours.has(dst) ? 'replace' : 'add'} ${dst} via ${via} dev ${bridge}`);
    after.set(dst, via);
  }
  return { stale: staleRanges.map((dst) => `route del ${dst} dev ${bridge}`), set, conflicts, after };
}

/**
 * The host's routes to the pods: each node's spec.podCIDR via its address on the bridge. Kept from a
 * Node informer; a node that goes away, or whose address is not on the bridge, loses its route.
 */
export class HostPodRoutes {
  readonly #informer: Informer<Node>;
  readonly #plan: NodeNetworkPlan;
  #pending: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The routes of the last sync that succeeded, as text: a Node event that changes none is no work. */
  #applied = '';
  #queued = false;
  #resync: NodeJS.Timeout | undefined;
  /** Ranges found routed by another link, already reported ("dst dev"). */
  readonly #conflicts = new Set<string>();
  /** This bridge's routes (range → gateway) as last read or set; undefined: read them at the next sync. */
  #ours: Map<string, string> | undefined;
  /** Ranges routed by other links at the last read (range → link). */
  #others = new Map<string, string>();
  /** start({ holdForPlanned }) until every planned node has a podCIDR, or release(). */
  #holding = false;

  constructor(client: ApiClient, plan: NodeNetworkPlan) {
    this.#plan = plan;
    this.#informer = new Informer<Node>(listWatch<Node>(client, Nodes), { onError: () => undefined });
    const kick = () => this.#queue();
    this.#informer.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
  }

  /**
   * Starts following the Nodes. With `holdForPlanned`, syncs wait until every node of the plan has a
   * route to ask for (its podCIDR), or until release(): `up --nodes` starts this while its nodes join,
   * and their ranges come one by one within ~0.5 s; held, they are one batch, made while the agents
   * finish their start rather than after (each `ip` run costs this busy process 10-20 ms of its one
   * thread). The host's routes are read at once: the held sync then has only its batch to run.
   */
  start(options: { holdForPlanned?: boolean } = {}): void {
    this.#holding = options.holdForPlanned ?? false;
    this.#informer.start();
    this.#pending = this.#pending
      .then(() => this.#readRoutes())
      .then(
        () => undefined,
        // Read again at the first sync.
        () => void (this.#ours = undefined),
      );
    // Routes deleted behind our back come back within a minute.
    this.#resync = setInterval(() => {
      this.#applied = '';
      this.#ours = undefined;
      this.#queue();
    }, 60_000);
    this.#resync.unref();
  }

  /**
   * The routes the nodes ask for now: podCIDR → node address, for nodes with an address on the bridge.
   * A node of the plan is routed to its planned address as soon as it has a podCIDR, before its agent
   * posts the address in its first status.
   */
  desired(): Map<string, string> {
    const out = new Map<string, string>();
    const planned = new Map(this.#plan.nodes.map((n) => [n.name, n.ip]));
    const onBridge = new Set(planned.values());
    for (const node of this.#informer.store.list()) {
      const cidr = node.spec?.podCIDR;
      const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? planned.get(node.metadata?.name ?? '');
      if (cidr && ip && onBridge.has(ip)) out.set(cidr, ip);
    }
    return out;
  }

  // Node status heartbeats and leases update every Node every few seconds: each spawned `ip` (10-20 ms
  // of this process' one thread, profiled at 0.6 s of a 3-node start) only when the routes asked for
  // changed, and kicks that come while one is queued are one sync.
  #queue(): void {
    if (this.#holding) {
      if (!coversPlan(this.desired(), this.#plan)) return;
      this.#holding = false;
    }
    if (this.#queued) return;
    this.#queued = true;
    this.#pending = this.#pending
      .then(() => {
        this.#queued = false;
        return this.#stopped ? undefined : this.#sync();
      })
      .catch((err: unknown) => {
        this.#applied = '';
        this.#ours = undefined;
        console.error(`tinykube: host routes to pods: ${(err as Error).message}`);
      });
  }

  async #sync(): Promise<void> {
    const want = this.desired();
    const text = JSON.stringify([...want].sort());
    if (text === this.#applied) return;
    // The host's routes are read at start, at each resync and after a failure; in between,
    // what this sync changes is known from the last one (one `ip` run per change instead of two). A
    // new route is added, not replaced: should another link route the range meanwhile, the kernel
    // refuses ("File exists") and the next sync reads the routes and says whose it is.
    const ours = this.#ours ?? (await this.#readRoutes());
    const plan = planPodRoutes(want, ours, this.#others, this.#plan.bridge);
    // Partly done if a run fails: read again at the next sync.
    this.#ours = undefined;
    // Stale ones first, in their own run: one already gone is no matter (`-force` goes on past it).
    if (plan.stale.length) await run('ip', ['-force', '-batch', '-'], plan.stale.map((line) => `${line}\n`).join(''));
    for (const { dst, link } of plan.conflicts) {
      // The same range routed on another link is another cluster's pods (a second `tinykube up` on this
      // machine uses the same cluster CIDR): replacing its route would cut that cluster off. Said once.
      const said = `${dst} ${link}`;
      if (this.#conflicts.has(said)) continue;
      this.#conflicts.add(said);
      console.error(`tinykube: host routes to pods: ${dst} is already routed on this host by ${link} (another cluster?): not replaced; this cluster's pods on that range are not reachable from the host`);
    }
    if (plan.set.length) await must('ip', ['-batch', '-'], `routing ${[...want.keys()].join(', ')}`, plan.set.map((line) => `${line}\n`).join(''));
    this.#ours = plan.after;
    this.#applied = text;
  }

  /** This bridge's routes (and the ranges other links route), read from the host. */
  async #readRoutes(): Promise<Map<string, string>> {
    const all = JSON.parse((await run('ip', ['-j', 'route', 'show'])).stdout || '[]') as IpRoute[];
    const ours = new Map<string, string>();
    for (const r of all) if (r.dev === this.#plan.bridge && r.protocol !== 'kernel' && r.gateway) ours.set(r.dst, r.gateway);
    this.#others = new Map(all.filter((r) => r.dev !== this.#plan.bridge).map((r) => [r.dst, r.dev ?? '?']));
    this.#ours = ours;
    return ours;
  }

  /** Ends the hold of start({ holdForPlanned }): the routes asked for now are synced. */
  release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#queue();
  }

  /** Resolves once every route asked for so far is in place (after start(), once the Nodes are listed). */
  async settled(): Promise<void> {
    await this.#informer.waitForSync();
    await this.#pending;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resync);
    await this.#informer.stop();
    await this.#pending;
  }
}

export interface NodeProcessOptions {
  plan: NodeNetworkPlan;
  node: NamespaceNode;
  /** The API server as the nodes reach it (on the bridge). */
  server: string;
  tokenFile: string;
  dataDir: string;
  /** Extra `tinykube agent` flags (service CIDR, overlay backend…). */
  args?: readonly string[];
}

export interface NodeProcess {
  node: NamespaceNode;
  child: ChildProcess;
  logFile: string;
  /** Settles when the process has exited, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (the agent drains its pods, stops containerd), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for an error message. */
  tail(lines?: number): Promise<string>;
}

/** The entry of this very tinykube (the bundle or the TypeScript sources), for the agents' processes. */
function tinykubeMain(): string {
  return runningMainFile() ?? fileURLToPath(new URL('../cli/main.ts', import.meta.url));
}

/** Starts `tinykube agent` inside the node's namespace; its output goes to `<dataDir>/agent.log`. */
export async function startNodeProcess(o: NodeProcessOptions): Promise<NodeProcess> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const logFile = join(o.dataDir, 'agent.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => log.once('open', () => resolve()).once('error', reject));
  const args = [
    '--pdeathsig', 'TERM', '--',
    'nsenter', `--net=/run/netns/${o.node.netns}`, '--',
    // The agent's V8 flags, as bin/tinykube gives them to `tinykube agent`.
    process.execPath, '--max-semi-space-size=2', '--optimize-for-size', tinykubeMain(), 'agent',
    '--server', o.server,
    '--token-file', o.tokenFile,
    '--data-dir', o.dataDir,
    '--name', o.node.name,
    '--node-ip', o.node.ip,
    '--drain',
    ...(o.args ?? []),
  ];
  const child = spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      log.write(`tinykube: cannot start the agent: ${err.message}\n`);
      resolve({ code: 127, signal: null });
    });
  });
  void exited.then(() => new Promise<void>((r) => setTimeout(r, 50))).then(() => log.end());
  return {
    node: o.node,
    child,
    logFile,
    exited,
    async stop(graceMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
    async tail(lines = 15) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
  };
}

/**
 * Keeps one node's agent running, as a service manager keeps k3s' agent: an agent that exits while the
 * cluster is up is started again after 1, 2, 4, 8… s (at most 10 s; back to 1 s after a minute of
 * running), with the reason in up's output. A node whose agent cannot come back (its link down, its
 * containerd broken) goes on trying and stays NotReady in the meantime, as a real machine would.
 */
export class NodeSupervisor {
  readonly #opts: NodeProcessOptions;
  readonly #log: (line: string) => void;
  #current: NodeProcess;
  #starting: Promise<void> | undefined;
  #stopped = false;
  #delayMs = 1000;
  #timer: NodeJS.Timeout | undefined;

  constructor(first: NodeProcess, opts: NodeProcessOptions, log: (line: string) => void) {
    this.#opts = opts;
    this.#log = log;
    this.#current = first;
    this.#watch(first, Date.now());
  }

  get current(): NodeProcess {
    return this.#current;
  }

  #watch(p: NodeProcess, startedAt: number): void {
    void p.exited.then(({ code, signal }) => {
      if (this.#stopped) return;
      if (Date.now() - startedAt > 60_000) this.#delayMs = 1000;
      this.#log(`the agent of node ${p.node.name} exited (${signal ?? `code ${code}`}); starting it again in ${this.#delayMs / 1000} s (log: ${p.logFile})`);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#stopped) return;
        this.#starting = startNodeProcess(this.#opts).then((next) => {
          this.#current = next;
          if (!this.#stopped) this.#watch(next, Date.now());
        }, (err: unknown) => this.#log(`node ${p.node.name}: ${(err as Error).message}`));
      }, this.#delayMs);
      this.#delayMs = Math.min(this.#delayMs * 2, 10_000);
    });
  }

  async stop(graceMs?: number): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    // A start under way finishes first, so the process it makes is stopped too.
    await this.#starting;
    await this.#current.stop(graceMs);
  }
}

async function cgroupProcs(dir: string, out: Set<number>): Promise<void> {
  for (const pid of (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n')) if (/^\d+$/.test(pid)) out.add(Number(pid));
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await cgroupProcs(join(dir, e.name), out);
}

/**
 * What an agent that did not stop cleanly (killed during its start, or SIGKILLed after its grace) left
 * of its node: its containerd and shims (their command lines name the node's data dir), the processes
 * still in its pod cgroups, those cgroups, and mounts under its data dir. The namespace goes next, so
 * none of it could serve again. Returns what it found, for a log line; nothing when the agent drained.
 */
export async function reapNode(dataDir: string, nodeName: string): Promise<{ processes: number; mounts: number }> {
  const pids = new Set<number>();
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (cmd.includes(`${dataDir}/`) && Number(pid) !== process.pid) pids.add(Number(pid));
  }
  const cgroupRoot = `/tinykube/${nodeName}`;
  const mountTable = await readFile('/proc/self/mounts', 'utf8');
  for (const line of mountTable.split('\n')) {
    const [, mp, fstype] = line.split(' ');
    if (mp && (fstype === 'cgroup' || fstype === 'cgroup2')) await cgroupProcs(join(mp, cgroupRoot), pids);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && [...pids].some((pid) => isAlive(pid)); i++) await new Promise((r) => setTimeout(r, 20));
  await new CgroupfsPodCgroups(cgroupRoot).removeRoot();
  const mounts = mountTable.split('\n').map((l) => l.split(' ')[1] ?? '').filter((mp) => mp.startsWith(`${dataDir}/`)).sort((a, b) => b.length - a.length);
  for (const mp of mounts) await run('umount', ['-l', mp]);
  return { processes: pids.size, mounts: mounts.length };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
