// Pod rows as the real server prints them (printPod in kubernetes pkg/printers/internalversion).
// The STATUS rules are subtle and kubectl users read them daily, so this follows upstream's order
// of evaluation exactly, including its quirks:
//  * init containers are scanned in order and the first one that has not completed decides
//    (`Init:<reason>`, `Init:Signal:N`, `Init:ExitCode:N`, else `Init:i/n`); started sidecars
//    (restartPolicy: Always init containers) are skipped and count towards READY;
//  * app containers are scanned from last to first, so the *first* container in spec order with a
//    waiting/terminated reason wins; only running+ready containers count towards READY;
//  * `Completed` with a container still running becomes Running (Ready condition) or NotReady;
//  * RESTARTS counts only sidecars and app containers once init is done, else the init containers
//    up to the one that decided, and shows `N (<age of the latest lastState.terminated.finishedAt> ago)`;
//  * a deletionTimestamp gives `Terminating` unless the phase is terminal, or `Unknown` for NodeLost.

import type { Container, KubeObject, Pod, PodCondition, PodStatus } from '../../../api/types.ts';
import { ageColumn, column, nameColumn } from '../../printing/columns.ts';
import { humanDuration, parseTime, timestampSince } from '../../printing/duration.ts';
import type { PrintedRow, TablePrinter, TableRowCondition } from '../../printing/types.ts';

const NODE_UNREACHABLE_POD_REASON = 'NodeLost';
const SCHEDULING_GATED = 'SchedulingGated';

// Upstream attaches these to Succeeded/Failed rows so clients can grey out finished pods.
const SUCCEEDED_CONDITIONS: readonly TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const FAILED_CONDITIONS: readonly TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

function isRestartableInitContainer(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function isPodInitializedConditionTrue(status: PodStatus): boolean {
  for (const c of status.conditions ?? []) if (c.type === 'Initialized') return c.status === 'True';
  return false;
}

function hasPodReadyCondition(conditions: readonly PodCondition[]): boolean {
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Keeps the latest finish time; an absent/zero time never wins (Go's zero Time is before everything). */
function later(current: number | undefined, ts: unknown): number | undefined {
  const t = parseTime(ts);
  if (t === undefined) return current;
  return current === undefined || current < t ? t : current;
}

export function printPod(pod: Pod, now: number): PrintedRow {
  const spec = pod.spec;
  const status: PodStatus = pod.status ?? {};
  const containers = spec?.containers ?? [];
  const initSpecs = spec?.initContainers ?? [];
  const podConditions = status.conditions ?? [];

  let restarts = 0;
  let sidecarRestarts = 0;
  let totalContainers = containers.length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason ? status.reason : phase;
  for (const c of podConditions) {
    if (c.type === 'PodScheduled' && c.reason === SCHEDULING_GATED) reason = SCHEDULING_GATED;
  }

  const row: PrintedRow = { cells: [] };
  if (phase === 'Succeeded') row.conditions = SUCCEEDED_CONDITIONS.map((c) => ({ ...c }));
  else if (phase === 'Failed') row.conditions = FAILED_CONDITIONS.map((c) => ({ ...c }));

  const initByName = new Map<string, Container>();
  for (const c of initSpecs) {
    initByName.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const restartCount = c.restartCount ?? 0;
    restarts += restartCount;
    lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
    const sidecar = isRestartableInitContainer(initByName.get(c.name));
    if (sidecar) {
      sidecarRestarts += restartCount;
      lastSidecarRestart = later(lastSidecarRestart, c.lastState?.terminated?.finishedAt);
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started === true) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // Initialization failed.
      if (!terminated.reason) {
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || isPodInitializedConditionTrue(status)) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
      const terminated = c.state?.terminated;
      const waiting = c.state?.waiting;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      } else if (c.ready && c.state?.running != null) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // Some containers completed but at least one still runs: the pod as a whole is still up.
    if (reason === 'Completed' && hasRunning) {
      reason = hasPodReadyCondition(podConditions) ? 'Running' : 'NotReady';
    }
  }

  const deleting = pod.metadata?.deletionTimestamp != null;
  if (deleting && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reason = 'Unknown';
  } else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') {
    reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${humanDuration(now - lastRestart)} ago)`;
  }

  // The internal API keeps only podIPs; the v1→internal conversion fills it from podIP when absent.
  const podIP = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const nodeName = spec?.nodeName || '<none>';
  const nominated = status.nominatedNodeName || '<none>';

  let readinessGates = '<none>';
  const gates = spec?.readinessGates ?? [];
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const gate of gates) {
      const cond = podConditions.find((c) => c.type === gate.conditionType);
      if (cond?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }

  row.cells = [
    pod.metadata?.name ?? '',
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    timestampSince(pod.metadata?.creationTimestamp, now),
    podIP,
    nodeName,
    nominated,
    readinessGates,
  ];
  return row;
}

export const podPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    column('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', { priority: 1 }),
    column('Node', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename', { priority: 1 }),
    column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', { priority: 1 }),
    column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', { priority: 1 }),
  ],
  print: (obj: KubeObject, now: number) => printPod(obj as Pod, now),
};
