// The audit log backend: one JSON line per event (kube's --audit-log-format=json, or its one-line
// text with --audit-log-format=legacy), written
// synchronously (kube's default blocking mode: the line is in the file before the request moves on,
// so a killed server loses no acknowledged request's line), rotated by size as lumberjack, which
// kube-apiserver uses, does it: the full file becomes `name-<UTC 2006-01-02T15-04-05.000>.ext` and
// a new file starts; old backups past --audit-log-maxbackup or --audit-log-maxage are removed.
//
// Called by the API server once per recorded stage, from one thread; not for concurrent processes.

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../util/clock.ts';
import { goQuote } from '../../api/goquote.ts';
import type { AuditEvent, AuditSink } from './event.ts';

/** kube's --audit-log-format values (pluginlog.AllowedFormats). */
export const AUDIT_LOG_FORMATS = ['legacy', 'json'] as const;
export type AuditLogFormat = (typeof AUDIT_LOG_FORMATS)[number];

export interface AuditLogOptions {
  /** The file; "-" writes to standard output. */
  path: string;
  /** Megabytes (2^20 bytes) before rotation; 0 = lumberjack's default, 100. */
  maxSizeMB?: number;
  /** Backups kept; 0 = all. */
  maxBackups?: number;
  /** Days a backup is kept, by the time in its name; 0 = no limit. */
  maxAgeDays?: number;
  clock: Clock;
  /** Default json. */
  format?: AuditLogFormat;
  /** Where write errors are reported (kube logs them and counts the event as dropped). */
  onError?: (err: Error) => void;
}

const MEGABYTE = 1024 * 1024;

/** A line that cannot be written whole (lumberjack's refusal of a line longer than the file may be). */
export class AuditLogError extends Error {
  readonly code = 'ERR_AUDIT_LOG_LINE_TOO_LONG';
}
const DEFAULT_MAX_SIZE_MB = 100;

/** The event in kube's field order (Go's struct order), as its JSON encoder writes it. */
export function encodeEvent(ev: AuditEvent): string {
  const ref = ev.objectRef;
  const ordered = {
    kind: ev.kind,
    apiVersion: ev.apiVersion,
    level: ev.level,
    auditID: ev.auditID,
    stage: ev.stage,
    requestURI: ev.requestURI,
    verb: ev.verb,
    // Go's omitempty: a request that failed authentication has no username.
    user: ev.user.username ? ev.user : { ...ev.user, username: undefined },
    impersonatedUser: ev.impersonatedUser,
    sourceIPs: ev.sourceIPs,
    userAgent: ev.userAgent,
    objectRef: ref && { resource: ref.resource, namespace: ref.namespace, name: ref.name, uid: ref.uid, apiGroup: ref.apiGroup, apiVersion: ref.apiVersion, resourceVersion: ref.resourceVersion, subresource: ref.subresource },
    responseStatus: ev.responseStatus && { metadata: {}, status: ev.responseStatus.status, message: ev.responseStatus.message, reason: ev.responseStatus.reason, details: ev.responseStatus.details, code: ev.responseStatus.code },
    requestObject: ev.requestObject,
    responseObject: ev.responseObject,
    requestReceivedTimestamp: ev.requestReceivedTimestamp,
    stageTimestamp: ev.stageTimestamp,
    annotations: ev.annotations,
  };
  return JSON.stringify(ordered) + '\n';
}

/** Go's RFC3339Nano of a metav1.MicroTime: trailing zeros of the fraction dropped, and a zero fraction. */
function rfc3339Nano(ts: string): string {
  return ts.replace(/\.(\d*?)0+Z$/, '.$1Z').replace(/\.Z$/, 'Z');
}

/** The legacy format's line (kube's audit.EventString): one line of quoted key=value pairs. */
export function encodeLegacyEvent(ev: AuditEvent): string {
  const list = (xs: readonly string[]) => xs.map(goQuote).join(',');
  let username = '<none>';
  let groups = '<none>';
  if (ev.user.username) {
    username = ev.user.username;
    if (ev.user.groups?.length) groups = list(ev.user.groups);
  }
  let as = '<self>';
  let asGroups = '<lookup>';
  if (ev.impersonatedUser) {
    as = ev.impersonatedUser.username;
    if (ev.impersonatedUser.groups) asGroups = list(ev.impersonatedUser.groups);
  }
  const namespace = ev.objectRef?.namespace || '<none>';
  const response = ev.responseStatus ? String(ev.responseStatus.code ?? 0) : '<deferred>';
  const ip = ev.sourceIPs?.[0] ?? '<unknown>';
  const q = goQuote;
  return `${rfc3339Nano(ev.requestReceivedTimestamp)} AUDIT: id=${q(ev.auditID)} stage=${q(ev.stage)} ip=${q(ip)} method=${q(ev.verb)} user=${q(username)} groups=${q(groups)} as=${q(as)} asgroups=${q(asGroups)} user-agent=${q(ev.userAgent ?? '')} namespace=${q(namespace)} uri=${q(ev.requestURI)} response="${response}"\n`;
}

/** lumberjack's backup name: `dir/name-2006-01-02T15-04-05.000.ext`, in UTC. */
export function backupName(file: string, atMs: number): string {
  const ext = path.extname(file);
  const base = file.slice(0, file.length - ext.length);
  const stamp = new Date(atMs).toISOString().replace(/Z$/, '').replace(/:/g, '-');
  return `${base}-${stamp}${ext}`;
}

/** The time in a backup's name, or undefined when the name is not one of this log's backups. */
export function backupTime(file: string, candidate: string): number | undefined {
  const ext = path.extname(file);
  const prefix = `${path.basename(file, ext)}-`;
  if (!candidate.startsWith(prefix) || !candidate.endsWith(ext)) return undefined;
  const stamp = candidate.slice(prefix.length, candidate.length - ext.length);
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(stamp);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(t) ? undefined : t;
}

/** A size-rotated log file written with synchronous appends. */
export class RotatingFile {
  readonly #file: string;
  readonly #max: number;
  readonly #maxBackups: number;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  #fd: number | undefined;
  #size = 0;

  constructor(opts: AuditLogOptions) {
    this.#file = opts.path;
    this.#max = (opts.maxSizeMB && opts.maxSizeMB > 0 ? opts.maxSizeMB : DEFAULT_MAX_SIZE_MB) * MEGABYTE;
    this.#maxBackups = Math.max(0, opts.maxBackups ?? 0);
    this.#maxAgeMs = Math.max(0, opts.maxAgeDays ?? 0) * 24 * 3600 * 1000;
    this.#clock = opts.clock;
  }

  /**
   * Creates the file (and its directory) now, so a path that cannot be written fails at start, as
   * kube-apiserver's ensureLogFile does; the file is private (0600).
   */
  open(): void {
    mkdirSync(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    this.#fd = openSync(this.#file, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  /** Appends `line` whole, rotating first when it would not fit. */
  write(line: string): void {
    const buf = Buffer.from(line);
    if (buf.length > this.#max) throw new AuditLogError(`write length ${buf.length} exceeds maximum file size ${this.#max}`);
    if (this.#fd === undefined) this.open();
    if (this.#size + buf.length > this.#max) this.#rotate();
    let off = 0;
    while (off < buf.length) off += writeSync(this.#fd!, buf, off);
    this.#size += buf.length;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #rotate(): void {
    this.close();
    renameSync(this.#file, backupName(this.#file, this.#clock.now()));
    this.#fd = openSync(this.#file, 'a', 0o600);
    this.#size = 0;
    this.#removeOldBackups();
  }

  /** lumberjack's mill: newest first; past maxBackups or older than maxAge goes. */
  #removeOldBackups(): void {
    if (this.#maxBackups === 0 && this.#maxAgeMs === 0) return;
    const dir = path.dirname(this.#file);
    const backups = readdirSync(dir)
      .map((name) => ({ name, t: backupTime(this.#file, name) }))
      .filter((b): b is { name: string; t: number } => b.t !== undefined && statSync(path.join(dir, b.name)).isFile())
      .sort((a, b) => b.t - a.t);
    const cutoff = this.#clock.now() - this.#maxAgeMs;
    backups.forEach((b, i) => {
      const tooMany = this.#maxBackups > 0 && i >= this.#maxBackups;
      const tooOld = this.#maxAgeMs > 0 && b.t < cutoff;
      if (tooMany || tooOld) rmSync(path.join(dir, b.name), { force: true });
    });
  }
}

/** The log backend as an AuditSink: each event one line, to a rotating file or standard output. */
export class AuditLogWriter implements AuditSink {
  readonly #file: RotatingFile | undefined;
  readonly #onError: (err: Error) => void;
  readonly #encode: (ev: AuditEvent) => string;

  constructor(opts: AuditLogOptions) {
    this.#encode = opts.format === 'legacy' ? encodeLegacyEvent : encodeEvent;
    this.#file = opts.path === '-' ? undefined : new RotatingFile(opts);
    this.#file?.open();
    this.#onError = opts.onError ?? ((err) => console.error(`tinykube: audit log: ${err.message}`));
  }

  processEvent(ev: AuditEvent): boolean {
    const line = this.#encode(ev);
    try {
      if (this.#file) this.#file.write(line);
      else writeSync(1, line);
      return true;
    } catch (err) {
      this.#onError(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  close(): void {
    this.#file?.close();
  }
}
