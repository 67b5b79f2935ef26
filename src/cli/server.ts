import { waitForSignal } from './signals.ts';
import type { Command } from './main.ts';
// The server's modules load when it starts: `tinykube up` reads these flags before it needs them.
import type { ServerOptions } from '../cmd/server.ts';
import { defaultDataDir } from './paths.ts';
import { parseDurationMs } from '../util/duration.ts';
import { DEFAULT_IN_FLIGHT_LIMITS, type InFlightLimits } from '../apiserver/maxinflight.ts';
import type { AuditBatchFlags, AuditFlags, AuditTruncateFlags } from '../apiserver/audit/setup.ts';
import type { LeaderElectionSettings } from '../cmd/leader.ts';
import { DEFAULT_SERVICE_RANGES, parseIPv4Cidr, parseNodePortRange, type ServiceRanges } from '../api/network.ts';
import { managedEtcdFlags, startManagedEtcdFromFlags } from './etcd.ts';

/** kube-apiserver's request-limit and audit flags, for `server` and `up`. */
export const apiServerFlags = {
  'max-requests-inflight': { type: 'string' },
  'max-mutating-requests-inflight': { type: 'string' },
  'audit-policy-file': { type: 'string' },
  'audit-log-path': { type: 'string' },
  'audit-log-maxsize': { type: 'string' },
  'audit-log-maxbackup': { type: 'string' },
  'audit-log-maxage': { type: 'string' },
  'audit-log-mode': { type: 'string' },
  'audit-log-format': { type: 'string' },
  'audit-log-version': { type: 'string' },
  ...auditBatchFlags('log'),
  ...auditTruncateFlags('log'),
  'audit-webhook-config-file': { type: 'string' },
  'audit-webhook-mode': { type: 'string' },
  'audit-webhook-initial-backoff': { type: 'string' },
  'audit-webhook-version': { type: 'string' },
  ...auditBatchFlags('webhook'),
  ...auditTruncateFlags('webhook'),
  'admission-control-config-file': { type: 'string' },
} as const;

/** --audit-<backend>-batch-* (kube's AuditBatchOptions flags). */
function auditBatchFlags<B extends 'log' | 'webhook'>(b: B) {
  return {
    [`audit-${b}-batch-buffer-size`]: { type: 'string' },
    [`audit-${b}-batch-max-size`]: { type: 'string' },
    [`audit-${b}-batch-max-wait`]: { type: 'string' },
    [`audit-${b}-batch-throttle-enable`]: { type: 'string' },
    [`audit-${b}-batch-throttle-qps`]: { type: 'string' },
    [`audit-${b}-batch-throttle-burst`]: { type: 'string' },
  } as Record<`audit-${B}-batch-${'buffer-size' | 'max-size' | 'max-wait' | 'throttle-enable' | 'throttle-qps' | 'throttle-burst'}`, { type: 'string' }>;
}

/** --audit-<backend>-truncate-* (kube's AuditTruncateOptions flags). */
function auditTruncateFlags<B extends 'log' | 'webhook'>(b: B) {
  return {
    [`audit-${b}-truncate-enabled`]: { type: 'string' },
    [`audit-${b}-truncate-max-batch-size`]: { type: 'string' },
    [`audit-${b}-truncate-max-event-size`]: { type: 'string' },
  } as Record<`audit-${B}-truncate-${'enabled' | 'max-batch-size' | 'max-event-size'}`, { type: 'string' }>;
}

/** kube-controller-manager's flags that `server` and `up` take. */
export const controllerFlags = {
  // How long a node may be silent before it is Unknown and its pods are marked NotReady (kube: 40s).
  'node-monitor-grace-period': { type: 'string' },
} as const;

/** The flags of controllerFlags as controller options; undefined keeps every default. */
export function controllerOptions(values: Record<string, unknown>): ServerOptions['controllerOptions'] {
  const grace = values['node-monitor-grace-period'] as string | undefined;
  if (grace === undefined) return undefined;
  const ms = parseDurationMs(grace, '--node-monitor-grace-period');
  if (ms <= 0) throw new Error(`--node-monitor-grace-period ${JSON.stringify(grace)}: must be a positive duration such as 40s`);
  return { nodeLifecycle: { nodeMonitorGracePeriodMs: ms } };
}

/** The flags of apiServerFlags as control-plane options; absent flags keep kube's defaults. */
export function apiServerOptions(values: Record<string, unknown>): { inFlight: InFlightLimits; audit?: AuditFlags; admissionControlConfigFile?: string } {
  const int = (name: string): number | undefined => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} ${JSON.stringify(v)}: must be a non-negative integer`);
    return Number(v);
  };
  const duration = (name: string): number | undefined => {
    const v = values[name] as string | undefined;
    return v === undefined ? undefined : parseDurationMs(v, `--${name}`);
  };
  const bool = (name: string): boolean | undefined => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new Error(`--${name} ${JSON.stringify(v)}: must be true or false`);
    return v === 'true';
  };
  const float = (name: string): number | undefined => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    if (!/^-?\d+(\.\d+)?$/.test(v)) throw new Error(`--${name} ${JSON.stringify(v)}: must be a number`);
    return Number(v);
  };
  const batch = (b: 'log' | 'webhook'): AuditBatchFlags => ({
    bufferSize: int(`audit-${b}-batch-buffer-size`),
    maxSize: int(`audit-${b}-batch-max-size`),
    maxWaitMs: duration(`audit-${b}-batch-max-wait`),
    throttleEnable: bool(`audit-${b}-batch-throttle-enable`),
    throttleQPS: float(`audit-${b}-batch-throttle-qps`),
    throttleBurst: int(`audit-${b}-batch-throttle-burst`),
  });
  const truncate = (b: 'log' | 'webhook'): AuditTruncateFlags => ({
    enabled: bool(`audit-${b}-truncate-enabled`),
    maxBatchSize: int(`audit-${b}-truncate-max-batch-size`),
    maxEventSize: int(`audit-${b}-truncate-max-event-size`),
  });
  const inFlight: InFlightLimits = {
    maxRequestsInFlight: int('max-requests-inflight') ?? DEFAULT_IN_FLIGHT_LIMITS.maxRequestsInFlight,
    maxMutatingRequestsInFlight: int('max-mutating-requests-inflight') ?? DEFAULT_IN_FLIGHT_LIMITS.maxMutatingRequestsInFlight,
  };
  const audit: AuditFlags = {
    policyFile: values['audit-policy-file'] as string | undefined,
    logPath: values['audit-log-path'] as string | undefined,
    maxSizeMB: int('audit-log-maxsize'),
    maxBackups: int('audit-log-maxbackup'),
    maxAgeDays: int('audit-log-maxage'),
    logMode: values['audit-log-mode'] as string | undefined,
    logBatch: batch('log'),
    logFormat: values['audit-log-format'] as string | undefined,
    logVersion: values['audit-log-version'] as string | undefined,
    logTruncate: truncate('log'),
    webhookConfigFile: values['audit-webhook-config-file'] as string | undefined,
    webhookMode: values['audit-webhook-mode'] as string | undefined,
    webhookBatch: batch('webhook'),
    webhookInitialBackoffMs: duration('audit-webhook-initial-backoff'),
    webhookVersion: values['audit-webhook-version'] as string | undefined,
    webhookTruncate: truncate('webhook'),
  };
  return {
    inFlight,
    audit: audit.policyFile || audit.logPath || audit.webhookConfigFile ? audit : undefined,
    admissionControlConfigFile: values['admission-control-config-file'] as string | undefined,
  };
}

export const serverCommand: Command = {
  summary: 'run the control plane (API server on the embedded store)',
  options: {
    'data-dir': { type: 'string' },
    listen: { type: 'string' },
    store: { type: 'string' },
    'event-ttl': { type: 'string' },
    'service-cidr': { type: 'string' },
    'service-node-port-range': { type: 'string' },
    'advertise-address': { type: 'string' },
    'disable-local-storage': { type: 'boolean' },
    ...apiServerFlags,
    ...controllerFlags,
    ...managedEtcdFlags,
    // kube-scheduler's and kube-controller-manager's: --leader-elect=false runs both unconditionally.
    'leader-elect': { type: 'string' },
    'leader-elect-lease-duration': { type: 'string' },
    'leader-elect-renew-deadline': { type: 'string' },
    'leader-elect-retry-period': { type: 'string' },
  },
  async run(values) {
    // Installed first: a stop asked while the server starts (or as it prints that it listens) is kept.
    const signalled = waitForSignal();
    const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir();
    const etcd = await startManagedEtcdFromFlags(values, dataDir);
    const { startServer } = await import('../cmd/server.ts');
    const server = await startServer({
      backend: etcd?.backend,
      extraRoutes: etcd?.routes,
      dataDir,
      listen: values.listen as string | undefined,
      store: values.store as string | undefined,
      eventTTLMs: eventTTLOption(values),
      serviceRanges: serviceRangesOption(values),
      advertiseAddress: values['advertise-address'] as string | undefined,
      localStorage: values['disable-local-storage'] ? false : undefined,
      controllerOptions: controllerOptions(values),
      leaderElection: leaderElectionOption(values),
      ...apiServerOptions(values),
    }).catch(async (err: unknown) => {
      await etcd?.backend.close();
      await etcd?.stop();
      throw err;
    });
    const cp = server.controlPlane;
    console.log(`tinykube server listening on ${cp.url}`);
    console.log(`kubeconfig: ${cp.kubeconfigPath}`);
    console.log(`node token: ${cp.nodeTokenPath}`);
    if (etcd) console.log(`etcd member ${etcd.name} at ${etcd.clientURL}; server token (for --server ${cp.url} --token-file): ${etcd.serverTokenPath}`);
    console.log(`\n  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get namespaces\n`);
    await signalled;
    console.log('tinykube server: stopping');
    await server.close();
    await etcd?.stop();
  },
};

/** The --leader-elect flags (Go durations); false when --leader-elect=false. */
export function leaderElectionOption(values: Record<string, unknown>): LeaderElectionSettings | false {
  const on = values['leader-elect'] as string | undefined;
  if (on !== undefined && on !== 'true' && on !== 'false') throw new Error(`--leader-elect ${JSON.stringify(on)}: must be true or false`);
  if (on === 'false') return false;
  const ms = (name: string) => {
    const v = values[name] as string | undefined;
    return v === undefined ? undefined : parseDurationMs(v, `--${name}`);
  };
  return {
    leaseDurationMs: ms('leader-elect-lease-duration'),
    renewDeadlineMs: ms('leader-elect-renew-deadline'),
    retryPeriodMs: ms('leader-elect-retry-period'),
    log: (m) => console.error(`tinykube server: ${m}`),
  };
}

/** `--event-ttl` (a Go duration) in ms, for `server` and `up`; undefined keeps the 1 h default. */
export function eventTTLOption(values: Record<string, unknown>): number | undefined {
  const ttl = values['event-ttl'] as string | undefined;
  return ttl === undefined ? undefined : parseDurationMs(ttl, '--event-ttl');
}

/** `--service-cidr` (k3s' name for --service-cluster-ip-range) and `--service-node-port-range`. */
export function serviceRangesOption(values: Record<string, unknown>): ServiceRanges | undefined {
  const cidr = values['service-cidr'] as string | undefined;
  const ports = values['service-node-port-range'] as string | undefined;
  if (cidr === undefined && ports === undefined) return undefined;
  if (cidr !== undefined) {
    const c = parseIPv4Cidr(cidr);
    // The DNS Service takes the tenth address: /28 is the smallest range holding it. kube-apiserver
    // refuses IPv4 ranges larger than /12.
    if (c.prefix > 28) throw new Error(`--service-cidr ${cidr}: the range must be /28 or larger (the cluster DNS takes its tenth address)`);
    if (c.prefix < 12) throw new Error(`--service-cidr ${cidr}: specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12`);
  }
  return {
    serviceCidr: cidr ?? DEFAULT_SERVICE_RANGES.serviceCidr,
    nodePorts: ports !== undefined ? parseNodePortRange(ports) : DEFAULT_SERVICE_RANGES.nodePorts,
  };
}
