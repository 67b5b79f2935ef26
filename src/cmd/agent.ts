// Composition of one node: join the cluster with the node token (CA pinned from it), start or adopt a
// private containerd under the data dir (or use --containerd-socket), import the offline pause and
// busybox images, then run the node agent (src/kubelet/agent.ts) with cgroupfs pod cgroups and the
// CNI bridge network. `tinykube agent` runs this; `tinykube up` calls startAgent in-process.
//
// stop() leaves containers running (a later start adopts them); stop({ removePods: true }) removes
// every pod from the node first and then takes down containerd, the pod cgroup tree and the bridge.
// With `overlay`, the pod network between nodes (src/overlay) starts once the agent knows its podCIDR
// and node IP; stop() keeps its device (a restart adopts it), stop({ removePods: true }) removes it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../client/client.ts';
import { bootstrapNodeClientCertificate, caHashFromToken, fetchPinnedCa, NODE_SERVING_FILE, nodeClientRequest, nodeServingCertificate, nodeServingRequest } from '../client/bootstrap.ts';
import { CertificateRotator, requestCertificate } from '../client/certificates.ts';
import type { Clock } from '../util/clock.ts';
import { Agent as NodeAgent } from '../kubelet/agent.ts';
import { CgroupfsPodCgroups } from '../kubelet/cgroups/pod-cgroups.ts';
import { Containerd } from '../kubelet/containerd/launcher.ts';
import { chooseResolvConf } from '../kubelet/network/resolvconf.ts';
import { CriRuntime } from '../kubelet/cri/cri-runtime.ts';
import type { ContainerRuntime } from '../kubelet/runtime/runtime.ts';
import { keepBuiltinImages } from '../kubelet/images/import.ts';
import { bridgeName, removeMasquerade } from '../kubelet/network/cni.ts';
import type { BackoffPolicy } from '../kubelet/podworkers/backoff.ts';
import { emptyRegistries, loadRegistries, writeHostsDir, type RegistriesConfig } from '../kubelet/images/registries/index.ts';
import { createStreamingServer } from '../kubelet/streaming/index.ts';
import { defaultNodeIP } from '../kubelet/node/machine.ts';
import { Overlay, podMTU } from '../overlay/overlay.ts';
import type { ChecksumOffload, Backend as OverlayBackend } from '../overlay/model.ts';
import { startNodeServices, type NodeServices, type NodeServicesOptions } from './node-services.ts';
import { setThreadNice } from '../util/priority.ts';

/**
 * The nice value of the agent's start-up work that its node's way to Ready does not wait for: the
 * built-in images' import, and the rest of the start once the node is Ready (yieldAfterReady).
 */
const BACKGROUND_NICENESS = 10;

/** What the streaming server (src/kubelet/streaming) gets from the agent. */
export interface StreamingContext {
  agent: NodeAgent;
  runtime: ContainerRuntime;
  logRoot: string;
  nodeName: string;
  nodeIP: string;
}

/** Starts the agent's HTTPS endpoint for logs/exec/attach/port-forward; its port is published on the Node. */
export type StreamingHook = (ctx: StreamingContext) => Promise<{ port: number; close(): Promise<void> | void }>;

export interface StartAgentOptions {
  /** https URL of the API server. */
  server: string;
  /**
   * The rest of the start, once the node is Ready, runs below the normal priority (see below): for an
   * agent that is its own process (`tinykube agent`), not for the in-process node of a one-node `up`,
   * whose thread is the control plane's too.
   */
  yieldAfterReady?: boolean;
  /** The node join token, or a file holding it. */
  token?: string;
  tokenFile?: string;
  /** The cluster CA (PEM); by default it is fetched from the server and pinned by the token's hash. */
  caPem?: string;
  dataDir: string;
  /** Node name (default: the host name, lower-cased). */
  name?: string;
  /** Use this containerd instead of starting a private one (then CNI config is the caller's). */
  containerdSocket?: string;
  /** CNI conf dir of the containerd behind containerdSocket, if the agent should write its conflist there. */
  cniConfDir?: string;
  /** k3s-style registries.yaml (default `<dataDir>/registries.yaml` when present). */
  registryConfig?: string;
  /** Root of pod log files (default /var/log/pods). */
  logRoot?: string;
  /** This node's local-path storage (default `<dataDir>/storage`); false: none. */
  localPathRoot?: string | false;
  nodeIP?: string;
  /** Cluster DNS addresses for ClusterFirst pods (default: the kube-dns address of the default Service CIDR; [] = none). */
  clusterDNS?: readonly string[];
  /** The cluster's DNS domain (default cluster.local). */
  clusterDomain?: string;
  /** The node's resolver file for dnsPolicy Default (default /etc/resolv.conf). */
  resolvConf?: string;
  /** How long registration waits for the control plane's podCIDR before picking one (default 5 s; tests without controllers: 0). */
  podCIDRWaitMs?: number;
  /**
   * The node's service proxy and cluster DNS (src/cmd/node-services.ts). Off unless asked: `tinykube up`
   * and `tinykube agent` turn them on; tests that start several agents on one host leave them off (one
   * proxy table and one DNS address per network namespace).
   */
  nodeServices?: Omit<NodeServicesOptions, 'client' | 'nodeName' | 'nodeIP' | 'podCIDR' | 'onError' | 'clusterDomain'>;
  /**
   * The pod network between nodes (src/overlay, flannel's backends). Off unless asked: `tinykube agent`
   * turns it on (vxlan by default, as k3s' --flannel-backend); a single node needs none.
   */
  overlay?: { backend: OverlayBackend; txChecksumOffload?: ChecksumOffload } | false;
  /** cgroup subtree of this agent (default /tinykube/<node>). */
  cgroupRoot?: string;
  clock?: Clock;
  /** spec.expirationSeconds of the node's client certificate requests (default: the signer's lifetime, one year). */
  clientCertExpirationSeconds?: number;
  crashLoopBackoff?: Partial<BackoffPolicy>;
  resyncMs?: number;
  streaming?: StreamingHook;
  /** Accepted for `tinykube up`'s call shape; start-up reports no sub-steps. */
  progress?: object;
  onError?(err: unknown, context: string): void;
}

export interface StopAgentOptions {
  /** Terminate and remove every pod, then stop containerd and remove cgroups and the bridge. */
  removePods?: boolean;
  /** Same as removePods (the name `tinykube up` uses). */
  stopContainers?: boolean;
}

export interface Agent {
  nodeName: string;
  agent: NodeAgent;
  runtime: ContainerRuntime;
  containerd: Containerd | undefined;
  client: ApiClient;
  /** How long each start-up step took (ms), in order: what `tinykube agent` prints once it runs. */
  startup: ReadonlyArray<readonly [string, number]>;
  stop(opts?: StopAgentOptions): Promise<void>;
}

function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve) => execFile(cmd, args, () => resolve()));
}

/**
 * The agent's streaming endpoint (logs, exec, attach, port-forward) on the node IP and a free port,
 * with a serving certificate from a kubernetes.io/kubelet-serving CSR for the node's name and IP (the
 * names its Node lists, which the approver checks), signed by the cluster CA, which the API server's
 * client certificate is checked against too.
 */
function defaultStreaming(client: ApiClient, caPem: string, pkiDir: string, clock: Clock | undefined): StreamingHook {
  return async (ctx) => {
    const hosts = [...new Set([ctx.nodeName, ctx.nodeIP].filter(Boolean))];
    const cert = await nodeServingCertificate(client, { caPem, nodeName: ctx.nodeName, hosts, pkiDir, clock });
    const server = createStreamingServer({
      runtime: ctx.runtime,
      logRoot: ctx.logRoot,
      resolvePod: (ns, name) => ctx.agent.streamingPod(ns, name),
      listPods: () => ctx.agent.pods(),
      summary: () => ctx.agent.summary.get(),
      tls: { cert: cert.certPem, key: cert.keyPem, ca: caPem },
    });
    // Renewed like the client certificate; new connections get the new one, open streams keep theirs.
    const rotator = new CertificateRotator({
      file: join(pkiDir, NODE_SERVING_FILE),
      request: () => requestCertificate(client, nodeServingRequest(ctx.nodeName, hosts), { clock }),
      onRotate: (pair) => server.server.setSecureContext({ cert: pair.certPem, key: pair.keyPem, ca: caPem, minVersion: 'TLSv1.2' }),
      clock,
      onError: (err) => console.error(`tinykube agent: serving certificate rotation: ${err instanceof Error ? err.message : String(err)}`),
    });
    const addr = await server.listen(0, ctx.nodeIP || '127.0.0.1');
    rotator.start(cert);
    return {
      port: addr.port,
      close: async () => {
        await rotator.stop();
        await server.close();
      },
    };
  };
}

/** The node's registries.yaml: `--registry-config` must exist; the default `<dataDir>/registries.yaml` may not. */
async function loadRegistryConfig(file: string | undefined, dataDir: string): Promise<RegistriesConfig | undefined> {
  const cfg = await loadRegistries(file ?? join(dataDir, 'registries.yaml'), { optional: !file });
  for (const w of cfg?.warnings ?? []) console.error(`tinykube agent: registries.yaml: ${w}`);
  return cfg;
}

export async function startAgent(opts: StartAgentOptions): Promise<Agent> {
  const startup: Array<[string, number]> = [];
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    startup.push([name, Math.round(now - mark)]);
    mark = now;
  };
  const nodeName = (opts.name ?? os.hostname()).toLowerCase();
  const token = (opts.token ?? (opts.tokenFile ? await readFile(opts.tokenFile, 'utf8') : '')).trim();
  if (!token) throw new Error('a node token is needed (--token-file)');
  // The join token only asks for the node's own client certificate (kubelet TLS bootstrapping); the
  // agent then is system:node:<name>, renewing its certificate before it expires.
  const pkiDir = join(opts.dataDir, 'pki');
  const report = opts.onError ?? ((err: unknown, ctx: string) => console.error(`tinykube agent: ${ctx}: ${err instanceof Error ? err.message : String(err)}`));
  // The CA and the certificate come from the API server, containerd starts here: side by side (measured
  // on `up --nodes 3`, each took 0.6-1.8 s of a node's start). containerd needs neither, and `up --nodes`
  // spawns its agents before its API server serves: their containerd starts while they wait for it.
  const booting = (async () => {
    let caPem = opts.caPem;
    if (!caPem) {
      const hash = caHashFromToken(token);
      if (!hash) throw new Error('the token does not pin a CA (K10<hash>::…); pass the CA explicitly');
      caPem = await fetchPinnedCa(opts.server, hash);
    }
    const identity = await bootstrapNodeClientCertificate({ server: opts.server, caPem, token, nodeName, pkiDir, clock: opts.clock, expirationSeconds: opts.clientCertExpirationSeconds });
    return { caPem, identity };
  })();
  // The pod MTU follows the node's link (one `ip` run): asked now, while the node waits for the API.
  const mtu = opts.overlay ? podMTU(opts.overlay.backend, opts.nodeIP ?? defaultNodeIP()) : Promise.resolve(undefined);
  const [boot, launched] = await Promise.allSettled([
    booting,
    opts.containerdSocket ? undefined : Containerd.start({ dataDir: join(opts.dataDir, 'containerd') }),
  ]);
  if (boot.status === 'rejected' || launched.status === 'rejected') {
    if (launched.status === 'fulfilled') await launched.value?.stop().catch(() => undefined);
    throw boot.status === 'rejected' ? boot.reason : (launched as PromiseRejectedResult).reason;
  }
  const { caPem, identity } = boot.value;
  // 16 kept-alive connections: a burst of pods (status writes, events) reuses them instead of opening
  // (and TLS-handshaking) one per request in flight; the kubelet itself talks over one HTTP/2 connection.
  const client = new ApiClient({ server: opts.server, caPem, certPem: identity.pair.certPem, keyPem: identity.pair.keyPem, userAgent: `tinykube-agent/${nodeName}`, maxSockets: 16 });
  const rotator = new CertificateRotator({
    file: identity.file,
    request: () => requestCertificate(client, nodeClientRequest(nodeName, opts.clientCertExpirationSeconds), { clock: opts.clock }),
    onRotate: (pair) => client.setClientCertificate(pair.certPem, pair.keyPem),
    clock: opts.clock,
    onError: (err) => report(err, 'client certificate rotation'),
  });
  rotator.start(identity.pair);
  step('certificate and containerd');
  let registries: RegistriesConfig | undefined;
  try {
    registries = await loadRegistryConfig(opts.registryConfig, opts.dataDir);
  } catch (err) {
    await rotator.stop();
    await launched.value?.stop().catch(() => undefined);
    client.close();
    throw err;
  }

  const containerd: Containerd | undefined = launched.value;
  const socket = opts.containerdSocket ?? containerd!.socket;
  // The built-in images (pause, busybox): whether containerd has them is asked at once; when it does
  // not, they are imported once the node has registered and listed its pods (agent.start below), as the
  // kubelet is Ready before its first image pull. What needs them (a sandbox, an image lookup or pull)
  // waits through the runtime's gate. Importing while the node registered made each containerd spend
  // ~0.2 s of CPU (content ingest and unpack) on the way to Ready, on a machine that `up --nodes 3` keeps
  // busy: 6 alternated pairs, median 3.30 → 3.02 s to three Ready nodes (tree CPU 5.89 → 5.25 s), while
  // the time until a pod runs on each node stayed within noise (pods waited for the import either way).
  // A node that never starts imports nothing. A failed import is reported and tried again with back-off
  // (keepBuiltinImages); sandboxes wait only for the first try, and after a failure fail with the
  // runtime's own error, shown in the pod's events. Its ctr runs at a lower priority: on a busy machine
  // the other nodes' registration comes first, and containerd's share of the import (it unpacks as ctr
  // asks) follows ctr's pace (median to 3 Ready nodes 4.52 → 3.81 s, 5 pairs).
  let nodeStarted: (started: boolean) => void = () => undefined;
  const importAfter = new Promise<boolean>((resolve) => (nodeStarted = resolve));
  const imagesFrom = performance.now();
  const imagesStop = new AbortController();
  const images = keepBuiltinImages(socket, join(opts.dataDir, 'images'), {
    niceness: BACKGROUND_NICENESS,
    importAfter,
    clock: opts.clock,
    signal: imagesStop.signal,
    onError: (err, retryInMs) => report(err, `importing the built-in images (pause, busybox), again in ${retryInMs / 1000} s`),
  });
  void images.done.then((r) => {
    if (r) startup.push(['images, in the background', Math.round(performance.now() - imagesFrom)]);
  });
  let runtime: CriRuntime;
  let cniConfDir = opts.cniConfDir;
  let cniIpamDir: string | undefined;
  if (opts.containerdSocket) {
    runtime = new CriRuntime({ socket: opts.containerdSocket, ready: images.attempted });
  } else {
    runtime = new CriRuntime({ client: containerd!.cri, ready: images.attempted });
    cniConfDir = containerd!.layout.cniConfDir;
    cniIpamDir = containerd!.layout.cniIpamDir;
  }
  const cgroups = new CgroupfsPodCgroups(opts.cgroupRoot ?? `/tinykube/${nodeName}`);
  let agent: NodeAgent | undefined;
  let startDone = false;
  let restorePriority: () => void = () => undefined;
  let streaming: { close(): Promise<void> | void } | undefined;
  let nodeServices: NodeServices | undefined;
  let overlay: Overlay | undefined;
  const teardown = async (removePods: boolean) => {
    await rotator.stop();
    // Its device (and the routes on it) goes only with the node's pods: a restart adopts it as it is.
    if (overlay) await overlay.stop({ deleteDevice: removePods }).catch((err: unknown) => report(err, 'stopping the pod network'));
    // The proxy table and the DNS address go first: they belong to the node, not to its pods.
    if (nodeServices) await nodeServices.stop();
    if (agent) await agent.stop({ removePods });
    if (streaming) await streaming.close();
    if (removePods) await cgroups.removeRoot();
    runtime.close();
    // An import still running goes on talking to containerd: let it end first (no new try starts).
    imagesStop.abort();
    await images.done;
    if (containerd) await containerd.stop();
    if (removePods && containerd) {
      await sh('ip', ['link', 'del', bridgeName(nodeName)]);
      if (agent?.podCIDR) await removeMasquerade(agent.podCIDR, bridgeName(nodeName));
    }
    client.close();
  };
  // A host whose /etc/resolv.conf names only systemd-resolved's 127.0.0.53 gives pods its real upstreams.
  const resolv = chooseResolvConf(opts.resolvConf);
  if (resolv.warning) report(new Error(resolv.warning), 'resolv.conf');
  try {
    // Mirrors and TLS settings go to containerd's hosts.toml dirs (re-read on every pull).
    if (containerd) await writeHostsDir(registries ?? emptyRegistries(), containerd.layout.registryConfigDir);
    agent = new NodeAgent({
      client,
      runtime,
      nodeName,
      dataDir: opts.dataDir,
      logRoot: opts.logRoot,
      localPathRoot: opts.localPathRoot,
      nodeIP: opts.nodeIP,
      cniConfDir,
      cniIpamDir,
      // Pods' packets must fit the VXLAN device once encapsulated (flannel writes the same into its CNI config).
      podMTU: cniConfDir ? await mtu : undefined,
      cgroups,
      clock: opts.clock,
      registries,
      crashLoopBackoff: opts.crashLoopBackoff,
      resyncMs: opts.resyncMs,
      clusterDNS: opts.clusterDNS,
      clusterDomain: opts.clusterDomain,
      resolvConf: resolv.path,
      podCIDRWaitMs: opts.podCIDRWaitMs,
      onError: report,
    });
    await agent.start();
    nodeStarted(true);
    step('node');
    // Once this node is Ready, the rest of its start (the streaming server's certificate, the pod
    // network, proxy and DNS) runs below the normal priority until it is done: where several nodes start
    // on one machine (up --nodes), the ones still on their way to Ready come first. It still runs
    // whenever a core is free; the image import already runs at nice 10 (../kubelet/images/import.ts).
    if (opts.yieldAfterReady) {
      void agent.nodeStatus.firstReady.then(() => {
        if (!startDone) restorePriority = setThreadNice(BACKGROUND_NICENESS);
      });
    }
    const hook = opts.streaming ?? defaultStreaming(client, caPem, pkiDir, opts.clock);
    const s = await hook({ agent, runtime, logRoot: agent.logRoot, nodeName, nodeIP: agent.nodeIP });
    streaming = s;
    agent.setKubeletPort(s.port);
    step('streaming');
    // The pod network to other nodes and the node's proxy and DNS are independent: started together.
    // allSettled: a failure of one is thrown only once the other is done, so the teardown sees both.
    const a0 = agent;
    const started = await Promise.allSettled([
      opts.overlay ? startOverlay(opts.overlay, a0, client, nodeName, report).then((o) => (overlay = o)) : undefined,
      opts.nodeServices
        ? startNodeServices({
            ...opts.nodeServices,
            client,
            nodeName,
            nodeIP: a0.nodeIP,
            podCIDR: a0.podCIDR || undefined,
            clusterDomain: opts.clusterDomain,
            resolvConf: resolv.path,
            onError: report,
          }).then((n) => (nodeServices = n))
        : undefined,
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    if (opts.overlay || opts.nodeServices) step([opts.overlay ? 'pod network' : '', opts.nodeServices ? 'proxy and DNS' : ''].filter(Boolean).join(', '));
  } catch (err) {
    startDone = true;
    restorePriority();
    nodeStarted(false);
    await teardown(false).catch(() => undefined);
    throw err;
  }
  startDone = true;
  restorePriority();
  const a = agent;
  let stopping: Promise<void> | undefined;
  return {
    nodeName,
    agent: a,
    runtime,
    containerd,
    client,
    startup,
    stop(o: StopAgentOptions = {}) {
      stopping ??= teardown(Boolean(o.removePods || o.stopContainers));
      return stopping;
    },
  };
}

/**
 * The pod network between nodes, once the agent has its podCIDR and node IP. Nodes the overlay
 * refuses (an overlapping podCIDR, another backend) get a Warning event on their Node, as the reason
 * this node sends their pods nothing, and a log line.
 */
async function startOverlay({ backend, txChecksumOffload }: { backend: OverlayBackend; txChecksumOffload?: ChecksumOffload }, agent: NodeAgent, client: ApiClient, nodeName: string, report: (err: unknown, ctx: string) => void): Promise<Overlay | undefined> {
  if (!agent.podCIDR || !agent.nodeIP) {
    report(new Error(`the node has no ${agent.podCIDR ? 'IP' : 'podCIDR'}: no pod network to other nodes`), 'pod network');
    return undefined;
  }
  const overlay = new Overlay({
    client,
    nodeName,
    nodeIP: agent.nodeIP,
    podCIDR: agent.podCIDR,
    backend,
    txChecksumOffload,
    onRefused: (node, reason) => {
      const message = `Node ${nodeName} does not route to node ${node}: ${reason}`;
      console.error(`tinykube agent: pod network: ${message}`);
      agent.recorder.event({ kind: 'Node', apiVersion: 'v1', name: node }, 'Warning', 'PodNetworkRefused', message);
    },
    // As Calico and Cilium do: the node lifecycle controller taints a node whose condition is True
    // (node.kubernetes.io/network-unavailable:NoSchedule), so no new pod lands where it cannot talk.
    onState: (up, message) => agent.nodeStatus.setCondition({ type: 'NetworkUnavailable', status: !up, reason: up ? 'PodNetworkIsUp' : 'PodNetworkFailed', message }),
    onWarning: (w) => console.error(`tinykube agent: pod network: ${w}`),
    onError: (err, ctx) => report(err, ctx),
  });
  await overlay.start();
  return overlay;
}
