// Start-up of the audit log from kube-apiserver's flags (--audit-policy-file, --audit-log-path,
// --audit-log-maxsize, --audit-log-maxbackup, --audit-log-maxage). Called once by cmd/ before the
// API server is built; a policy that cannot be read or is malformed stops the start with an
// AuditError naming the file and the field.

import { readFileSync } from 'node:fs';
import type { Clock } from '../../util/clock.ts';
import type { AuditSink } from './event.ts';
import { policyFromFile, type AuditPolicy } from './policy.ts';
import { AuditLogWriter } from './writer.ts';

export class AuditError extends Error {
  readonly code: 'ERR_AUDIT_POLICY' | 'ERR_AUDIT_LOG';
  constructor(code: 'ERR_AUDIT_POLICY' | 'ERR_AUDIT_LOG', message: string) {
    super(message);
    this.name = 'AuditError';
    this.code = code;
  }
}

export interface AuditFlags {
  policyFile?: string;
  /** "-" = standard output. */
  logPath?: string;
  maxSizeMB?: number;
  maxBackups?: number;
  maxAgeDays?: number;
}

export interface Audit {
  policy: AuditPolicy;
  sink: AuditSink & { close(): void };
}

/**
 * The policy and the log backend, or undefined when auditing is off: as in kube-apiserver, events
 * are recorded only with both a policy file and a log path (either alone records nothing, with a
 * warning). `warn` receives kube's warnings (unknown fields in the policy, a half configuration).
 */
export function openAudit(flags: AuditFlags, clock: Clock, warn: (msg: string) => void = (m) => console.error(`tinykube: ${m}`)): Audit | undefined {
  if (!flags.policyFile && !flags.logPath) return undefined;
  for (const [name, v] of [['--audit-log-maxsize', flags.maxSizeMB], ['--audit-log-maxbackup', flags.maxBackups], ['--audit-log-maxage', flags.maxAgeDays]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new AuditError('ERR_AUDIT_LOG', `${name} ${v} must be a non-negative integer`);
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
    warn('no audit policy file provided (--audit-policy-file), no events will be recorded for the log backend');
    return undefined;
  }
  if (!flags.logPath) {
    warn('no audit log path provided (--audit-log-path), the audit policy records nothing');
    return undefined;
  }
  try {
    const sink = new AuditLogWriter({ path: flags.logPath, maxSizeMB: flags.maxSizeMB, maxBackups: flags.maxBackups, maxAgeDays: flags.maxAgeDays, clock });
    return { policy, sink };
  } catch (err) {
    throw new AuditError('ERR_AUDIT_LOG', `--audit-log-path ${flags.logPath}: ${(err as Error).message}`);
  }
}
