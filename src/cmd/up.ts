// `tinykube up`: everything for one machine in one process — control plane on SQLite, scheduler,
// and a node agent with its private containerd — talking to each other through the API server.

import os from 'node:os';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, rename } from 'node:fs/promises';
import { NODE_PASSWORD_FILE } from '../client/bootstrap.ts';
import type { ChecksumOffload, Backend as OverlayBackend } from '../overlay/model.ts';
import path from 'node:path';
// The control plane and the in-process agent are loaded when started: `up --nodes` starts its agent
// processes first, and they load their own modules meanwhile (~0.5 s of the server's load overlaps them).
import type { Server, ServerOptions } from './server.ts';
import type { Agent } from './agent.ts';
import type { Progress } from '../cli/progress.ts';
import { clusterDNSIP, type ServiceRanges } from '../api/network.ts';
import { ApiClient } from '../client/client.ts';
import { Informer, listWatch } from '../client/informer.ts';
import { Nodes } from '../client/resources.ts';
import type { Node } from '../api/types.ts';
import { HostPodRoutes, NodeSupervisor, planNodeNetwork, reapNode, setupNodeBridge, setupNodeNamespaces, startNodeProcess, teardownNodeNetwork, type NodeProcess, type NodeProcessOptions } from './netns-nodes.ts';
import { buildBuiltinImages } from '../kubelet/images/import.ts';
import { PreboundListener } from '../apiserver/prebound.ts';
import { apiServingHosts, ensurePki } from '../apiserver/auth/pki.ts';
import { parseListen } from './listen.ts';
import { setThreadNice } from '../util/priority.ts';

/** up --nodes' main thread's nice value from its agents' spawn until its nodes are Ready. */
const START_NICE = -10;

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
  apiServer?: Pick<ServerOptions, 'inFlight' | 'audit' | 'admissionControlConfigFile'>;
  /** 2 or more: that many nodes, each in its own network namespace with its own agent process (netns-nodes.ts). */
  nodes?: number;
  /** The namespace nodes' network (default 10.45.0.0/24). */
  nodeCidr?: string;
  /** The one-node cluster's pod network to agents joining from other machines (default: none). */
  overlay?: { backend: OverlayBackend; txChecksumOffload?: ChecksumOffload } | false;
  /** More `tinykube agent` flags for the namespace nodes. */
  agentArgs?: readonly string[];
  /** Controller settings (kube-controller-manager's flags). */
  controllerOptions?: ServerOptions['controllerOptions'];
}

export interface Up {
  server: Server;
  /** The in-process node of a one-node cluster. */
  agent?: Agent;
  /** The namespace nodes' agents of `--nodes N` (each restarted if it exits). */
  nodeProcesses?: NodeSupervisor[];
  nodeNames: string[];
  /** Stops the node's containers and containerd, then the control plane; pods stay in the store. */
  stop(): Promise<void>;
}

export async function startUp(opts: UpOptions): Promise<Up> {
  if ((opts.nodes ?? 1) > 1) return startMultiNode(opts);
  const { progress } = opts;
  const { startServer } = await import('./server.ts');
  const { startAgent } = await import('./agent.ts');
  const server = await startServer({
    dataDir: path.join(opts.dataDir, 'server'),
    listen: opts.listen ?? '127.0.0.1:6443',
    eventTTLMs: opts.eventTTLMs,
    localStorage: opts.localStorage,
    serviceRanges: opts.serviceRanges,
    controllerOptions: opts.controllerOptions,
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
        // The pod network to agents that join from other machines: asked for with --flannel-backend. Off
        // by default: it adds ~0.5 s to a one-node start (measured A/B, ethtool and the first sync).
        overlay: opts.overlay ?? false,
      }),
    );
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    server,
    agent,
    nodeNames: [agent.nodeName],
    async stop() {
      await agent.stop({ removePods: true });
      await server.close();
    },
  };
}

/**
 * `--nodes N`: the control plane in this process (listening on loopback and on the node bridge), and
 * N agent processes, one per network namespace. Resolves once every node is Ready.
 */
async function startMultiNode(opts: UpOptions): Promise<Up> {
  const { progress } = opts;
  const count = opts.nodes!;
  const plan = planNodeNetwork(opts.dataDir, opts.nodeName ?? os.hostname().toLowerCase(), count, opts.nodeCidr);
  await progress.step(`node network ${plan.cidr} (bridge ${plan.bridge})`, () => setupNodeBridge(plan));
  // The namespaces (~10 `ip` runs per node) are made while the control plane starts; the agents wait for them.
  const namespaces = setupNodeNamespaces(plan);
  namespaces.catch(() => undefined);
  const listen = opts.listen ?? '127.0.0.1:6443';
  // The built-in images' archives are built once for all nodes, while the control plane starts, and
  // linked into each node's image cache (each agent would otherwise build its own: ~0.6 s of CPU each).
  const images = buildBuiltinImages(path.join(opts.dataDir, 'images')).then(
    (files) => Object.values(files),
    (err: unknown) => {
      progress.info(`building the built-in images once for all nodes failed (each node builds its own): ${(err as Error).message}`);
      return [];
    },
  );
  const processes: NodeProcess[] = [];
  const supervisors: NodeSupervisor[] = [];
  let processOptions: NodeProcessOptions[] = [];
  // The agents start before the control plane: the API server's addresses are bound and its CA and
  // join token made first, so that their process start, module load and containerd overlap the control
  // plane's start (the two cores were otherwise one busy, one idle). Their first connections wait,
  // accepted, until the API server serves them.
  const serverDir = path.join(opts.dataDir, 'server');
  let listeners: ApiListeners | undefined;
  let spawning: Promise<void> | undefined;
  const spawnAgents = async (port: number, tokenFile: string) => {
    await namespaces;
    const agentArgs = [...(opts.serviceRanges ? ['--service-cidr', opts.serviceRanges.serviceCidr] : []), ...(opts.agentArgs ?? [])];
    processOptions = plan.nodes.map((node) => ({
      plan,
      node,
      server: `https://${plan.hostIP}:${port}`,
      tokenFile,
      dataDir: path.join(opts.dataDir, 'nodes', node.name),
      args: agentArgs,
    }));
    // A data dir first used by a one-node `up` has a Node of the first node's name, joined with the
    // password of <data-dir>/agent: the first namespace node is that machine, so it keeps the password
    // (a new one would be refused as a second machine taking the name).
    const single = path.join(opts.dataDir, 'agent', NODE_PASSWORD_FILE);
    const first = path.join(processOptions[0]!.dataDir, NODE_PASSWORD_FILE);
    if (existsSync(single) && !existsSync(first)) {
      await mkdir(processOptions[0]!.dataDir, { recursive: true, mode: 0o700 });
      await copyFile(single, first);
    }
    // Side by side: each waits for its log file before its spawn.
    const started = await Promise.allSettled(processOptions.map((o) => startNodeProcess(o)));
    for (const r of started) if (r.status === 'fulfilled') processes.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    // The images are linked into each node's cache once built (~0.4 s), while the agents load and get
    // their certificates (~1.5 s): an agent looks for them only then, and builds its own if they are
    // still missing (the archives appear whole under their final name, whichever writes them first).
    sharing = images.then(async (built) => {
      for (const o of processOptions) {
        await shareImages(built, path.join(o.dataDir, 'images')).catch((err: unknown) => progress.info(`node ${o.node.name} builds its own images: ${(err as Error).message}`));
      }
    });
  };
  let sharing: Promise<void> | undefined;
  const stopAgents = async () => {
    await spawning?.catch(() => undefined);
    await sharing;
    await Promise.all([...supervisors.map((s) => s.stop()), ...processes.filter((p) => !supervisors.some((s) => s.current === p)).map((p) => p.stop())]);
    for (const node of plan.nodes) {
      const left = await reapNode(path.join(opts.dataDir, 'nodes', node.name), node.name);
      if (left.processes + left.mounts > 0) progress.info(`node ${node.name}: its agent did not stop cleanly; ended ${left.processes} processes and unmounted ${left.mounts} mounts it left`);
    }
  };
  let server: Server;
  let restorePriority: () => void = () => undefined;
  try {
    listeners = await bindApiListeners(listen, plan.hostIP);
    const pki = await ensurePki(serverDir, { hosts: apiServingHosts(listeners.main.host, opts.serviceRanges?.serviceCidr, plan.hostIP), createCa: true });
    spawning = spawnAgents(listeners.main.port, pki.paths.nodeToken);
    // The agents' processes are started before the server's modules load: that load holds this thread
    // for ~0.3 s, and the agents' own load and containerd's start get under way meanwhile. A failure
    // is thrown below, where the node agents' step awaits `spawning` again (or by stopAgents).
    await spawning.catch(() => undefined);
    // From here until the nodes are Ready, this thread is the path they all wait on (the API server,
    // the controllers that approve their certificates and give their ranges), while 3 agents and their
    // containerds want the same 2 cores: measured, it waited for a core ~1.1 s of the ~2.6 s. It runs
    // above the agents meanwhile (they were spawned at the normal priority; a process it spawns from now
    // on inherits this one), and back at the normal one once the nodes are Ready.
    restorePriority = setThreadNice(START_NICE);
    const { startServer } = await import('./server.ts');
    server = await startServer({
      dataDir: serverDir,
      listen,
      listeners,
      // The nodes reach the API server, and pods the kubernetes Service, at the host's bridge address.
      advertiseAddress: plan.hostIP,
      // One control plane in this process: nothing to elect (as a one-node up).
      leaderElection: false,
      // Built below once the nodes are Ready: their start needs the CPU more than a first `kubectl apply`.
      prepareOpenAPI: false,
      eventTTLMs: opts.eventTTLMs,
      localStorage: opts.localStorage,
      serviceRanges: opts.serviceRanges,
      controllerOptions: opts.controllerOptions,
      ...opts.apiServer,
      onStep: (title, fn) => progress.step(title, fn),
    });
  } catch (err) {
    restorePriority();
    await stopAgents();
    await Promise.all([listeners?.main.close(), listeners?.advertised?.close()]);
    await namespaces.catch(() => undefined);
    await teardownNodeNetwork(plan);
    throw err;
  }
  const cp = server.controlPlane;
  const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.adminToken, userAgent: 'tinykube-up' }, cp.loopbackTransport());
  // Each sync spawns `ip` from this process, whose fork costs its one thread 10-20 ms under load
  // (libuv forks, and this process is big by then), and the nodes get their podCIDRs one by one: routed
  // as they came, that was ~4 `ip` runs in the middle of the nodes' start; synced only once the nodes
  // were Ready, one read and one batch that "tinykube is up" waited for (0.23-0.45 s, timed). So the
  // routes are read now and held until every node has its range: one batch, while the agents finish.
  const routes = new HostPodRoutes(client, plan);
  const stop = async () => {
    // The routes first: the nodes' Nodes change as their agents stop, and a sync then would route through
    // a namespace already gone ("Nexthop has invalid gateway", printed at every Ctrl-C).
    await routes.stop();
    await stopAgents();
    const problems = await teardownNodeNetwork(plan);
    for (const p of problems) console.error(`tinykube: cleaning up: ${p}`);
    client.close();
    await server.close();
  };
  try {
    await progress.step(`${count} node agents (containerd, CNI, offline images each)`, async () => {
      routes.start({ holdForPlanned: true });
      // The agents' start waits for the namespaces (a failure of either lands here).
      await spawning;
      await waitForReadyNodes(client, processes);
      restorePriority();
      // Ready nodes have their ranges, so the hold has usually ended already; should a Node not show
      // its range, the routes known are set now rather than never.
      routes.release();
      await routes.settled();
    });
    processes.forEach((p, i) => supervisors.push(new NodeSupervisor(p, processOptions[i]!, (line) => progress.info(line))));
    void import('../apiserver/openapi/handler.ts').then((m) => setImmediate(m.prepareOpenAPI));
  } catch (err) {
    restorePriority();
    await stop();
    throw err;
  }
  return { server, nodeProcesses: supervisors, nodeNames: plan.nodes.map((n) => n.name), stop };
}

/** Hard links (or copies, across file systems) the built archives into a node's image cache. */
async function shareImages(files: readonly string[], dir: string): Promise<void> {
  if (files.length === 0) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of files) {
    const to = path.join(dir, path.basename(f));
    if (existsSync(to)) continue;
    await link(f, to).catch(async (err: NodeJS.ErrnoException) => {
      // The node's agent built it itself meanwhile: the same archive.
      if (err.code === 'EEXIST') return;
      if (err.code !== 'EXDEV') throw err;
      // Across file systems, a copy appears under its name only whole (the agent may be looking).
      const tmp = `${to}.${process.pid}.tmp`;
      await copyFile(f, tmp);
      await rename(tmp, to);
    });
  }
}

/** Resolves when every process's Node is Ready; rejects, with the agent's last words, when one exits first. */
async function waitForReadyNodes(client: ApiClient, processes: readonly NodeProcess[]): Promise<void> {
  const informer = new Informer<Node>(listWatch<Node>(client, Nodes));
  const names = new Set(processes.map((p) => p.node.name));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        const ready = informer.store.list().filter((n) => names.has(n.metadata?.name ?? '') && (n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false));
        if (ready.length === names.size) resolve();
      };
      informer.addEventHandler({ onAdd: check, onUpdate: check });
      for (const p of processes) {
        void p.exited.then(async ({ code, signal }) => {
          reject(new Error(`the agent of node ${p.node.name} exited (${signal ?? `code ${code}`}) before its node was Ready; its log ${p.logFile} ends:\n${await p.tail()}`));
        });
      }
      informer.start();
    });
  } finally {
    await informer.stop();
  }
}

interface ApiListeners {
  main: PreboundListener;
  advertised: PreboundListener;
}

/**
 * The API server's two addresses for `up --nodes`, bound before it starts: `listen` (loopback by
 * default, for kubectl) and the bridge address the nodes and pods dial, on the same port. With port 0
 * the kernel picks one for the first; should the second address have it taken, another is tried.
 */
async function bindApiListeners(listen: string, advertise: string): Promise<ApiListeners> {
  const { host, port } = parseListen(listen);
  for (let attempt = 1; ; attempt++) {
    const main = await PreboundListener.listen(port, host);
    try {
      return { main, advertised: await PreboundListener.listen(main.port, advertise) };
    } catch (err) {
      await main.close();
      if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) {
        throw new Error(`cannot listen on ${advertise}:${main.port} for the nodes: ${(err as Error).message}`);
      }
    }
  }
}
