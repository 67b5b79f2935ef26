import type { Command } from './main.ts';
import { BACKENDS, CHECKSUM_OFFLOAD_MODES, type Backend, type ChecksumOffload } from '../overlay/model.ts';
import { startUp } from '../cmd/up.ts';
import { defaultDataDir } from './paths.ts';
import { Progress } from './progress.ts';
import { installPackages, missingPackages, nodePackages } from './hostdeps.ts';
import { apiServerFlags, apiServerOptions, controllerFlags, controllerOptions, eventTTLOption, serviceRangesOption } from './server.ts';
import { waitForSignal } from './signals.ts';
import { mergeIntoKubeconfig, adminEntries, defaultKubeconfigPath } from '../apiserver/auth/kubeconfig.ts';

export const upCommand: Command = {
  summary: 'run a whole cluster on this machine: control plane, scheduler and a node agent with its own containerd (--nodes N: N nodes in network namespaces)',
  options: {
    'data-dir': { type: 'string' },
    listen: { type: 'string' },
    name: { type: 'string' },
    'write-kubeconfig': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    'event-ttl': { type: 'string' },
    'disable-local-storage': { type: 'boolean' },
    'service-cidr': { type: 'string' },
    'service-node-port-range': { type: 'string' },
    // kind/k3d-style multi-node on one machine: N network namespaces, one agent process each.
    nodes: { type: 'string' },
    'node-cidr': { type: 'string' },
    'flannel-backend': { type: 'string' },
    'vxlan-tx-checksum-offload': { type: 'string' },
    ...apiServerFlags,
    ...controllerFlags,
  },
  async run(values) {
    const progress = new Progress({ quiet: Boolean(values.quiet) });
    const eventTTLMs = eventTTLOption(values);
    const serviceRanges = serviceRangesOption(values);
    const apiServer = apiServerOptions(values);
    const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir();
    const nodesFlag = values.nodes as string | undefined;
    const nodes = nodesFlag === undefined ? 1 : Number(nodesFlag);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 99) {
      console.error(`tinykube up: --nodes ${JSON.stringify(nodesFlag)}: must be a whole number from 1 to 99`);
      return 2;
    }
    if (nodes === 1 && values['node-cidr'] !== undefined) {
      console.error('tinykube up: --node-cidr is for --nodes 2 or more (one node runs on the host itself)');
      return 2;
    }
    const backend = values['flannel-backend'] as string | undefined;
    if (backend !== undefined && backend !== 'none' && !BACKENDS.includes(backend as Backend)) {
      console.error(`tinykube up: --flannel-backend: "${backend}" is not one of ${[...BACKENDS, 'none'].join(', ')}`);
      return 2;
    }
    const offload = values['vxlan-tx-checksum-offload'] as string | undefined;
    if (offload !== undefined && !CHECKSUM_OFFLOAD_MODES.includes(offload as ChecksumOffload)) {
      console.error(`tinykube up: --vxlan-tx-checksum-offload: "${offload}" is not one of ${CHECKSUM_OFFLOAD_MODES.join(', ')}`);
      return 2;
    }
    // Namespace nodes share one link (the host's bridge): plain routes between them (host-gw), as kind's
    // kindnet routes its nodes' pod ranges, with no encapsulation. VXLAN cost 0.19× of the throughput
    // between nodes here (bench/network: 0.81× against host-gw's 1.0×); machines joining from elsewhere need
    // `--flannel-backend vxlan` (a node of the other backend is refused, PodNetworkRefused).
    const nodesBackend = backend ?? (nodes > 1 ? 'host-gw' : undefined);
    const agentArgs = [...(nodesBackend ? ['--flannel-backend', nodesBackend] : []), ...(offload ? ['--vxlan-tx-checksum-offload', offload] : [])];
    const missing = missingPackages(nodePackages);
    if (missing.length) await progress.step(`installing ${missing.join(', ')}`, (h) => installPackages(missing, h));
    // Listening for Ctrl-C before anything starts: a signal that comes while the cluster starts (or the
    // instant "tinykube is up" is printed, before a later handler would be in place) is kept, and the
    // cluster is stopped cleanly once started, instead of Node's default exit leaving namespaces behind.
    const signalled = waitForSignal();
    const up = await startUp({ dataDir, listen: values.listen as string | undefined, nodeName: values.name as string | undefined, progress, eventTTLMs, localStorage: values['disable-local-storage'] ? false : undefined, serviceRanges, apiServer, nodes, nodeCidr: values['node-cidr'] as string | undefined, agentArgs, overlay: backend === undefined ? undefined : backend === 'none' ? false : { backend: backend as Backend, txChecksumOffload: offload as ChecksumOffload | undefined }, controllerOptions: controllerOptions(values) });
    const cp = up.server.controlPlane;
    if (values['write-kubeconfig']) {
      const { cluster, user, context } = adminEntries(cp.pki, cp.url);
      const file = defaultKubeconfigPath();
      await mergeIntoKubeconfig(file, cluster, user, context, { setCurrentContext: true });
      progress.info(`merged context "${context.name}" into ${file} and made it current`);
      // The merged entry embeds the admin certificate: keep it current when the server renews it.
      cp.certificates.onRenewed((renewed) => {
        if (!renewed.includes('admin')) return;
        const fresh = adminEntries(cp.pki, cp.url);
        mergeIntoKubeconfig(file, fresh.cluster, fresh.user, fresh.context, { setCurrentContext: false }).catch((err: unknown) => console.error(`tinykube: updating ${file}: ${(err as Error).message}`));
      });
    }
    console.log(`\ntinykube is up: node${up.nodeNames.length > 1 ? 's' : ''} ${up.nodeNames.join(', ')}, API server ${cp.url}\n`);
    console.log(`  export KUBECONFIG=${cp.kubeconfigPath}`);
    console.log(`  kubectl get nodes`);
    console.log(`  kubectl run demo --image=busybox -- sleep 3600\n`);
    console.log('Press Ctrl-C to stop (pods are kept and start again with the next `tinykube up`).');
    await signalled;
    progress.info(up.nodeProcesses ? 'stopping: node agents (their containers and containerd), node network, control plane' : 'stopping: containers, containerd, control plane');
    await up.stop();
  },
};
