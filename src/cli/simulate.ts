// `tinykube simulate`: N simulated nodes (src/kubelet/simulated) joining a cluster with the node token,
// as `tinykube agent` joins one real node: the token only asks for each node's client certificate
// (src/kubelet/simulated/identity.ts), and each node then acts as system:node:<name>. That costs a
// certificate request per node at start (the approver's node-password check dominates: 5 to 14 nodes
// a second on two busy cores); with --kubeconfig, a user allowed to impersonate nodes (the admin)
// stands in for the token and each node acts as system:node:<name> by impersonation, starting
// thousands of nodes in seconds. Either way the Node authorizer and NodeRestriction apply. Runs until
// SIGINT/SIGTERM or --stop-after; then lease renewal stops and the node lifecycle controller marks the
// nodes Unknown, as if their agents had died (--delete-nodes removes the Node objects instead).
import { readFile } from 'node:fs/promises';
import type { Command } from './main.ts';
import { waitForSignal } from './signals.ts';
import { ApiClient } from '../client/client.ts';
import { caHashFromToken, fetchPinnedCa } from '../client/bootstrap.ts';
import { simulatedNodeIdentities } from '../kubelet/simulated/identity.ts';
import { simulatedNodeNames, Simulator } from '../kubelet/simulated/simulator.ts';
import { NODE_USER_PREFIX, NODES_GROUP } from '../api/certificates/request.ts';
import { checkCapacity, parseDurationMs, parseLabels, parseTaints, SimulateConfigError } from '../kubelet/simulated/spec.ts';

/** Prints errors without flooding: the first of each kind, then a count per interval. */
function errorReporter(): { report(err: unknown, context: string): void; close(): void } {
  const seen = new Map<string, number>();
  let suppressed = 0;
  const timer = setInterval(() => {
    if (suppressed > 0) console.error(`tinykube simulate: ${suppressed} more errors in the last 10 s`);
    suppressed = 0;
  }, 10_000);
  timer.unref();
  return {
    report(err, context) {
      const kind = context.replace(/ (of|for) (node|pod) \S+$/, '').replace(/ of \S+$/, '');
      const n = seen.get(kind) ?? 0;
      seen.set(kind, n + 1);
      if (n < 3) console.error(`tinykube simulate: ${context}: ${err instanceof Error ? err.message : String(err)}`);
      else suppressed++;
    },
    close: () => clearInterval(timer),
  };
}

export const simulateCommand: Command = {
  summary: 'register simulated nodes (no containers) that run the pods bound to them',
  options: {
    server: { type: 'string' },
    'token-file': { type: 'string' },
    token: { type: 'string' },
    kubeconfig: { type: 'string' },
    nodes: { type: 'string' },
    'name-prefix': { type: 'string' },
    cpu: { type: 'string' },
    memory: { type: 'string' },
    pods: { type: 'string' },
    'ephemeral-storage': { type: 'string' },
    // Extended resources, e.g. nvidia.com/gpu=4.
    capacity: { type: 'string' },
    labels: { type: 'string' },
    taints: { type: 'string' },
    'start-delay': { type: 'string' },
    'delete-delay': { type: 'string' },
    'lease-renew': { type: 'string' },
    'stop-after': { type: 'string' },
    'delete-nodes': { type: 'boolean' },
  },
  async run(values) {
    const str = (k: string) => values[k] as string | undefined;
    const kubeconfig = str('kubeconfig');
    const server = str('server');
    const tokenFile = str('token-file');
    if (kubeconfig !== undefined && (server !== undefined || tokenFile !== undefined || str('token') !== undefined)) {
      console.error('tinykube simulate: --kubeconfig replaces --server and --token-file; give one or the other');
      return 2;
    }
    if (!server && kubeconfig === undefined) {
      console.error('tinykube simulate: --server URL is required (or --kubeconfig FILE)');
      return 2;
    }
    if (values['delete-nodes'] && kubeconfig === undefined) {
      // A node may not delete its Node (kube's system:node rules have no such verb), nor may the token.
      console.error('tinykube simulate: --delete-nodes needs --kubeconfig (a user that may delete Nodes): nodes joined with the token may not delete themselves');
      return 2;
    }
    const token = kubeconfig === undefined ? (str('token') ?? (tokenFile ? await readFile(tokenFile, 'utf8') : '')).trim() : '';
    if (!token && kubeconfig === undefined) {
      console.error('tinykube simulate: --token-file FILE (or --token) is required');
      return 2;
    }
    const nodes = Number(str('nodes') ?? '1');
    if (!Number.isInteger(nodes) || nodes < 1) {
      console.error('tinykube simulate: --nodes wants a positive whole number');
      return 2;
    }
    let sim: Simulator;
    let stopAfterMs: number | undefined;
    const errors = errorReporter();
    let client: ApiClient | undefined;
    let identities: ReturnType<typeof simulatedNodeIdentities> | undefined;
    try {
      const capacity: Record<string, string> = parseLabels(str('capacity'));
      for (const k of ['cpu', 'memory', 'pods', 'ephemeral-storage']) if (str(k) !== undefined) capacity[k] = str(k)!;
      checkCapacity(capacity);
      const spec = { capacity, labels: parseLabels(str('labels')), taints: parseTaints(str('taints')) };
      const ms = (k: string) => (str(k) !== undefined ? parseDurationMs(str(k)!, `--${k}`) : undefined);
      const startDelayMs = ms('start-delay');
      const deleteDelayMs = ms('delete-delay');
      const leaseRenewMs = ms('lease-renew');
      stopAfterMs = ms('stop-after');
      const common = { nodes, namePrefix: str('name-prefix'), spec, startDelayMs, deleteDelayMs, leaseRenewMs, onError: (err: unknown, ctx: string) => errors.report(err, ctx) };
      if (kubeconfig !== undefined) {
        // The kubeconfig's user (one that may impersonate nodes, as the admin may) reads the Nodes
        // and all bound pods with one watch; each node writes as system:node:<name> by impersonation,
        // over the same connections: no certificate per node, for thousands of nodes.
        client = ApiClient.fromKubeconfig(kubeconfig, { userAgent: 'tinykube-simulate' });
        const shared = client;
        sim = new Simulator({ ...common, client, nodeClient: (name) => Promise.resolve(shared.impersonating(`${NODE_USER_PREFIX}${name}`, [NODES_GROUP], `tinykube-simulate/${name}`)) });
      } else {
        const hash = caHashFromToken(token);
        if (!hash) throw new SimulateConfigError('the token does not pin a CA (K10<hash>::…)');
        const caPem = await fetchPinnedCa(server!, hash);
        // The join token is a bootstrap token: it may only ask for the nodes' certificates. Each node
        // writes through a client of its own, as system:node:<name>, and watches its own pods (all a
        // node may list), as a kubelet does; the first node, joined before the others, also reads the
        // Nodes for free address slots (as a real agent may, to route to them).
        identities = simulatedNodeIdentities({ server: server!, caPem, token });
        const ids = identities;
        const [firstName] = simulatedNodeNames(nodes, common.namePrefix);
        const firstNode = await ids.nodeClient(firstName!);
        client = firstNode;
        sim = new Simulator({ ...common, client, nodeClient: (name) => (name === firstName ? Promise.resolve(firstNode) : ids.nodeClient(name)), perNodeWatchMax: Infinity });
      }
    } catch (err) {
      errors.close();
      client?.close();
      identities?.close();
      if (err instanceof SimulateConfigError) {
        console.error(`tinykube simulate: ${err.message}`);
        return 2;
      }
      throw err;
    }
    const t0 = performance.now();
    try {
      await sim.start();
    } catch (err) {
      await sim.stop();
      errors.close();
      client.close();
      identities?.close();
      throw err;
    }
    identities?.close();
    const first = sim.nodeNames[0];
    const last = sim.nodeNames[sim.nodeNames.length - 1];
    console.log(`tinykube simulate: ${nodes} node(s) ${first}${nodes > 1 ? ` … ${last}` : ''} registered with ${client.server} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      waitForSignal(),
      ...(stopAfterMs !== undefined ? [new Promise<'stop-after'>((r) => (timer = setTimeout(() => r('stop-after'), stopAfterMs)))] : []),
    ]);
    clearTimeout(timer);
    console.log(`tinykube simulate: stopping (${stopped})`);
    await sim.stop({ deleteNodes: Boolean(values['delete-nodes']) });
    const s = sim.stats();
    console.log(`tinykube simulate: ${s.started} pod starts, ${s.completed} completed, ${s.deleted} deletions confirmed, ${s.statusWrites} status writes, ${s.leaseRenewals} lease renewals`);
    errors.close();
    client.close();
  },
};
