// Start-up of the audit backends from kube-apiserver's flags: the policy (--audit-policy-file), the
// log backend (--audit-log-path, rotation, --audit-log-format, --audit-log-mode and its batch and
// truncate flags) and the webhook backend (--audit-webhook-config-file, --audit-webhook-mode, its
// batch and truncate flags and initial backoff); --audit-{log,webhook}-version accept audit.k8s.io/v1,
// the only version kube-apiserver still knows.
// Called once by cmd/ before the API server is built; a policy that cannot be read or is malformed,
// or a bad flag, stops the start with an AuditError naming the file, the field or the flag.

import { readFileSync } from 'node:fs';
import type { Clock } from '../../util/clock.ts';
import { BufferedAuditBackend, DEFAULT_LOG_BATCH, DEFAULT_WEBHOOK_BATCH, type BatchConfig, type BatchDelegate } from './buffered.ts';
import type { AuditEvent, AuditSink } from './event.ts';
import { policyFromFile, type AuditPolicy } from './policy.ts';
import { DEFAULT_TRUNCATE, truncateBatches, type TruncateConfig } from './truncate.ts';
import { DEFAULT_WEBHOOK_INITIAL_BACKOFF_MS, WebhookAuditBackend, type WebhookTarget } from './webhook.ts';
import { AUDIT_LOG_FORMATS, AuditLogWriter, type AuditLogFormat } from './writer.ts';

type AuditErrorCode = 'ERR_AUDIT_POLICY' | 'ERR_AUDIT_LOG' | 'ERR_AUDIT_WEBHOOK' | 'ERR_AUDIT_FLAGS';

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, message: string) {
    super(message);
    this.name = 'AuditError';
    this.code = code;
  }
}

/** kube's three backend modes: batch (buffered, asynchronous), blocking (errors ignored), blocking-strict (an event that cannot be stored fails the request). */
export const AUDIT_MODES = ['batch', 'blocking', 'blocking-strict'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

/** --audit-<backend>-batch-* as given; absent fields keep the backend's defaults. */
export interface AuditBatchFlags {
  bufferSize?: number;
  maxSize?: number;
  maxWaitMs?: number;
  throttleEnable?: boolean;
  throttleQPS?: number;
  throttleBurst?: number;
}

/** --audit-<backend>-truncate-* as given; absent fields keep kube's defaults (off, 10 MiB, 100 KiB). */
export interface AuditTruncateFlags {
  enabled?: boolean;
  maxBatchSize?: number;
  maxEventSize?: number;
}

/** The audit event versions kube-apiserver knows (--audit-log-version, --audit-webhook-version). */
const KNOWN_AUDIT_VERSIONS = ['audit.k8s.io/v1'];

export interface AuditFlags {
  policyFile?: string;
  /** "-" = standard output. */
  logPath?: string;
  maxSizeMB?: number;
  maxBackups?: number;
  maxAgeDays?: number;
  /** --audit-log-mode; kube's default blocking. */
  logMode?: string;
  logBatch?: AuditBatchFlags;
  /** --audit-log-format: json (default) or legacy. */
  logFormat?: string;
  /** --audit-log-version (default audit.k8s.io/v1). */
  logVersion?: string;
  logTruncate?: AuditTruncateFlags;
  /** A kubeconfig naming the webhook (--audit-webhook-config-file). */
  webhookConfigFile?: string;
  /** --audit-webhook-mode; kube's default batch. */
  webhookMode?: string;
  webhookBatch?: AuditBatchFlags;
  webhookInitialBackoffMs?: number;
  /** --audit-webhook-version (default audit.k8s.io/v1). */
  webhookVersion?: string;
  webhookTruncate?: AuditTruncateFlags;
}

export interface Audit {
  policy: AuditPolicy;
  sink: AuditSink & { close(): void | Promise<void> };
}

/** How the webhook's kubeconfig is read (the client's reader, wired by cmd/); throws when it cannot be. */
export type ReadKubeconfig = (file: string) => WebhookTarget;

export interface OpenAuditOptions {
  /** Receives kube's warnings (unknown fields in the policy, a half configuration). */
  warn?: (msg: string) => void;
  /** Where backends report lost events at run time. */
  log?: (msg: string) => void;
  /** Needed with --audit-webhook-config-file. */
  readKubeconfig?: ReadKubeconfig;
  /** The webhook's backoff jitter source (tests). */
  random?: () => number;
}

const stderr = (m: string) => console.error(`tinykube: ${m}`);

/**
 * The policy and the backends, or undefined when auditing is off: as in kube-apiserver, events are
 * recorded only with a policy file and at least one backend (a log path or a webhook); a half
 * configuration records nothing, with a warning.
 */
export function openAudit(flags: AuditFlags, clock: Clock, options: OpenAuditOptions = {}): Audit | undefined {
  const warn = options.warn ?? stderr;
  const log = options.log ?? stderr;
  if (!flags.policyFile && !flags.logPath && !flags.webhookConfigFile) return undefined;
  for (const [name, v] of [['--audit-log-maxsize', flags.maxSizeMB], ['--audit-log-maxbackup', flags.maxBackups], ['--audit-log-maxage', flags.maxAgeDays]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new AuditError('ERR_AUDIT_LOG', `${name} ${v} must be a non-negative integer`);
  }
  // As kube's AuditLogOptions/AuditWebhookOptions.Validate: a backend's flags are checked when it is on.
  const logMode = flags.logPath ? checkMode('log', flags.logMode ?? 'blocking') : 'blocking';
  const webhookMode = flags.webhookConfigFile ? checkMode('webhook', flags.webhookMode ?? 'batch') : 'batch';
  const logBatch = batchConfig('log', flags.logPath ? logMode : 'blocking', DEFAULT_LOG_BATCH, false, flags.logBatch);
  const webhookBatch = batchConfig('webhook', flags.webhookConfigFile ? webhookMode : 'blocking', DEFAULT_WEBHOOK_BATCH, true, flags.webhookBatch);
  if (flags.webhookConfigFile && webhookMode !== 'batch') {
    // Our pipeline hands events to the sink synchronously; a request cannot wait on an HTTP round trip.
    throw new AuditError('ERR_AUDIT_FLAGS', `--audit-webhook-mode ${webhookMode}: tinykube sends audit events to a webhook in batch mode only`);
  }
  let logFormat: AuditLogFormat = 'json';
  let logTruncate: TruncateConfig | undefined;
  let webhookTruncate: TruncateConfig | undefined;
  if (flags.logPath) {
    logTruncate = truncateConfig('log', flags.logTruncate);
    checkVersion(flags.logVersion);
    const format = flags.logFormat ?? 'json';
    if (!(AUDIT_LOG_FORMATS as readonly string[]).includes(format)) throw new AuditError('ERR_AUDIT_FLAGS', `invalid audit log format ${format}, allowed formats are ${JSON.stringify(AUDIT_LOG_FORMATS.join(','))}`);
    logFormat = format as AuditLogFormat;
  }
  if (flags.webhookConfigFile) {
    webhookTruncate = truncateConfig('webhook', flags.webhookTruncate);
    checkVersion(flags.webhookVersion);
  }
  if (flags.webhookInitialBackoffMs !== undefined && !(flags.webhookInitialBackoffMs > 0)) {
    throw new AuditError('ERR_AUDIT_FLAGS', `--audit-webhook-initial-backoff must be a positive duration`);
  }
  let policy: AuditPolicy | undefined;
  if (flags.policyFile) {
    let text: string;
    try {
      text = readFileSync(flags.policyFile, 'utf8');
    } catch (err) {
      throw new AuditError('ERR_AUDIT_POLICY', `loading audit policy file: failed to read file path ${JSON.stringify(flags.policyFile)}: ${(err as Error).message}`);
    }
    const parsed = policyFromFile(flags.policyFile, text);
    if (!parsed.ok) throw new AuditError('ERR_AUDIT_POLICY', `loading audit policy file: ${parsed.error}`);
    for (const w of parsed.warnings) warn(`${w} (in ${flags.policyFile})`);
    policy = parsed.policy;
  }
  if (!policy) {
    warn('no audit policy file provided (--audit-policy-file), no events will be recorded');
    return undefined;
  }
  if (!flags.logPath && !flags.webhookConfigFile) {
    warn('no audit backend configured (--audit-log-path, --audit-webhook-config-file), the audit policy records nothing');
    return undefined;
  }
  const sinks: Array<AuditSink & { close(): void | Promise<void> }> = [];
  if (flags.logPath) {
    let writer: AuditLogWriter;
    try {
      writer = new AuditLogWriter({ path: flags.logPath, maxSizeMB: flags.maxSizeMB, maxBackups: flags.maxBackups, maxAgeDays: flags.maxAgeDays, format: logFormat, clock, onError: (err) => log(`Error in audit plugin 'log' affecting 1 audit events: ${err.message}`) });
    } catch (err) {
      throw new AuditError('ERR_AUDIT_LOG', `--audit-log-path ${flags.logPath}: ${(err as Error).message}`);
    }
    // As kube wraps them: the batching outside, truncation next, the writer last.
    const direct = logTruncate ? truncatingSink(writer, logTruncate, log) : writer;
    const delegate = logTruncate ? truncatingDelegate(logDelegate(writer), logTruncate, log) : logDelegate(writer);
    sinks.push(withMode(logMode, logBatch, delegate, direct, clock, log));
  }
  if (flags.webhookConfigFile) {
    if (!options.readKubeconfig) throw new AuditError('ERR_AUDIT_WEBHOOK', '--audit-webhook-config-file: no kubeconfig reader wired');
    let target: WebhookTarget;
    try {
      target = options.readKubeconfig(flags.webhookConfigFile);
    } catch (err) {
      throw new AuditError('ERR_AUDIT_WEBHOOK', `--audit-webhook-config-file ${flags.webhookConfigFile}: ${(err as Error).message}`);
    }
    let webhook: WebhookAuditBackend;
    try {
      webhook = new WebhookAuditBackend({ target, clock, initialBackoffMs: flags.webhookInitialBackoffMs ?? DEFAULT_WEBHOOK_INITIAL_BACKOFF_MS, random: options.random, log });
    } catch (err) {
      throw new AuditError('ERR_AUDIT_WEBHOOK', `--audit-webhook-config-file ${flags.webhookConfigFile}: ${(err as Error).message}`);
    }
    sinks.push(new BufferedAuditBackend(webhookTruncate ? truncatingDelegate(webhook, webhookTruncate, log) : webhook, webhookBatch, clock, log));
  }
  return { policy, sink: sinks.length === 1 ? sinks[0]! : union(sinks) };
}

function checkMode(plugin: 'log' | 'webhook', mode: string): AuditMode {
  if ((AUDIT_MODES as readonly string[]).includes(mode)) return mode as AuditMode;
  throw new AuditError('ERR_AUDIT_FLAGS', `invalid audit ${plugin} mode ${mode}, allowed modes are ${JSON.stringify(AUDIT_MODES.join(','))}`);
}

/** validateGroupVersionString: only the versions kube knows. */
function checkVersion(version: string | undefined): void {
  if (version === undefined || KNOWN_AUDIT_VERSIONS.includes(version)) return;
  if (version.split('/').length > 2) throw new AuditError('ERR_AUDIT_FLAGS', `unexpected GroupVersion string: ${version}`);
  throw new AuditError('ERR_AUDIT_FLAGS', `invalid group version, allowed versions are ${JSON.stringify(KNOWN_AUDIT_VERSIONS)}`);
}

/** The truncate flags over kube's defaults, checked as AuditTruncateOptions.Validate; undefined when off. */
function truncateConfig(plugin: 'log' | 'webhook', f: AuditTruncateFlags = {}): TruncateConfig | undefined {
  if (!f.enabled) return undefined;
  const maxEventSize = f.maxEventSize ?? DEFAULT_TRUNCATE.maxEventSize;
  const maxBatchSize = f.maxBatchSize ?? DEFAULT_TRUNCATE.maxBatchSize;
  if (!(maxEventSize > 0)) throw new AuditError('ERR_AUDIT_FLAGS', `invalid audit truncate ${plugin} max event size ${maxEventSize}, must be a positive number`);
  if (maxBatchSize < maxEventSize) throw new AuditError('ERR_AUDIT_FLAGS', `invalid audit truncate ${plugin} max batch size ${maxBatchSize}, must be greater than max event size (${maxEventSize})`);
  return { maxEventSize, maxBatchSize };
}

/** A delegate behind kube's truncate backend: each batch re-cut by size, the parts sent in order. */
function truncatingDelegate(inner: BatchDelegate, config: TruncateConfig, log: (msg: string) => void): BatchDelegate {
  return {
    name: inner.name,
    async send(events, signal) {
      let ok = true;
      for (const part of truncateBatches(events, config, log)) ok = (await inner.send(part, signal)) && ok;
      return ok;
    },
    close: () => inner.close?.(),
  };
}

/** A blocking sink behind the truncate backend (an event dropped as too large still counts as handled, as in kube). */
function truncatingSink(inner: AuditSink & { close(): void }, config: TruncateConfig, log: (msg: string) => void): AuditSink & { close(): void } {
  return {
    processEvent: (ev) => truncateBatches([ev], config, log).every((part) => part.every((e) => inner.processEvent(e))),
    close: () => inner.close(),
  };
}

/** The batch flags over the backend's defaults, checked as kube's validateBackendBatchOptions (only in batch mode). */
function batchConfig(plugin: 'log' | 'webhook', mode: AuditMode, defaults: BatchConfig, throttleByDefault: boolean, f: AuditBatchFlags = {}): BatchConfig {
  const bufferSize = f.bufferSize ?? defaults.bufferSize;
  const maxBatchSize = f.maxSize ?? defaults.maxBatchSize;
  const maxBatchWaitMs = f.maxWaitMs ?? defaults.maxBatchWaitMs;
  const throttleOn = f.throttleEnable ?? throttleByDefault;
  const qps = f.throttleQPS ?? DEFAULT_WEBHOOK_BATCH.throttle.qps;
  const burst = f.throttleBurst ?? DEFAULT_WEBHOOK_BATCH.throttle.burst;
  if (mode === 'batch') {
    const positive: Array<[string, number]> = [['buffer size', bufferSize], ['max batch size', maxBatchSize]];
    if (throttleOn) positive.push(['throttle QPS', qps], ['throttle burst', burst]);
    for (const [what, v] of positive) {
      if (!(v > 0)) throw new AuditError('ERR_AUDIT_FLAGS', `invalid audit batch ${plugin} ${what} ${v}, must be a positive number`);
    }
  }
  return { bufferSize, maxBatchSize, maxBatchWaitMs, throttle: throttleOn ? { qps, burst } : undefined };
}

/** The log writer as a batch delegate: a batch's lines are written in order. */
function logDelegate(writer: AuditLogWriter): BatchDelegate {
  return {
    name: 'log',
    send: async (events) => events.map((e) => writer.processEvent(e)).every(Boolean),
  };
}

/** kube's wrapBackend: blocking ignores errors, blocking-strict reports them (the request fails), batch buffers. */
function withMode(mode: AuditMode, config: BatchConfig, delegate: BatchDelegate, direct: AuditSink & { close(): void }, clock: Clock, log: (msg: string) => void): AuditSink & { close(): void | Promise<void> } {
  if (mode === 'blocking-strict') return direct;
  if (mode === 'blocking') return { processEvent: (ev: AuditEvent) => (direct.processEvent(ev), true), close: () => direct.close() };
  const buffered = new BufferedAuditBackend(delegate, config, clock, log);
  return { processEvent: (ev) => buffered.processEvent(ev), close: async () => (await buffered.close(), direct.close()) };
}

/** kube's union backend: every backend gets each event; the request fails if any strict one could not store it. */
function union(sinks: Array<AuditSink & { close(): void | Promise<void> }>): AuditSink & { close(): Promise<void> } {
  return {
    processEvent: (ev) => sinks.map((s) => s.processEvent(ev)).every(Boolean),
    close: async () => {
      await Promise.all(sinks.map((s) => s.close()));
    },
  };
}
