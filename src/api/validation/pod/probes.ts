// Probes and lifecycle hooks: one handler each, with Kubernetes' per-kind rules.

import { FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import type { Probe } from '../../types.ts';
import { isHTTPHeaderName, isValidPortName, isValidPortNum } from '../names.ts';
import { validateNonnegativeField } from '../meta.ts';
import { isRecord, arr, list, type AnyRecord } from './helpers.ts';

type ProbeKind = 'liveness' | 'readiness' | 'startup';

export function validateProbe(probe: Probe | undefined, grace: number | undefined, path: FieldPath, kind: ProbeKind): FieldError[] {
  if (!probe) return [];
  const p = probe as Probe & AnyRecord;
  const errs = validateHandler({ exec: p.exec, httpGet: p.httpGet, tcpSocket: p.tcpSocket, grpc: p.grpc }, grace, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegativeField(typeof p[f] === 'number' ? (p[f] as number) : 0, path.child(f)));
  }
  const tgps = p.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps !== null && tgps <= 0) errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  if (kind === 'readiness') {
    if (tgps !== undefined && tgps !== null) errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
  } else if (p.successThreshold !== 1) {
    errs.push(invalid(path.child('successThreshold'), p.successThreshold ?? 0, 'must be 1'));
  }
  return errs;
}

export function validateLifecycle(lc: AnyRecord, grace: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = lc[hook];
    if (isRecord(h)) errs.push(...validateHandler({ exec: h.exec, httpGet: h.httpGet, tcpSocket: h.tcpSocket, sleep: h.sleep }, grace, path.child(hook)));
  }
  return errs;
}

function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return isValidPortNum(0).map((m) => invalid(path, 0, m));
}

function validateHandler(h: AnyRecord, grace: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const) {
    const a = h[kind];
    if (a === undefined || a === null) continue;
    const p = path.child(kind);
    if (n > 0) {
      errs.push(forbiddenField(p, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    const act = isRecord(a) ? a : {};
    switch (kind) {
      case 'exec':
        if (list(act.command as string[]).length === 0) errs.push(required(p.child('command')));
        break;
      case 'httpGet': {
        if (!act.path) errs.push(required(p.child('path')));
        errs.push(...validatePortNumOrName(act.port, p.child('port')));
        const scheme = typeof act.scheme === 'string' ? act.scheme : '';
        if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(p.child('scheme'), scheme, ['HTTP', 'HTTPS']));
        for (const hdr of arr(act.httpHeaders as { name?: string }[])) {
          for (const m of isHTTPHeaderName(hdr?.name ?? '')) errs.push(invalid(p.child('httpHeaders'), hdr?.name ?? '', m));
        }
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(act.port, p.child('port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(typeof act.port === 'number' ? act.port : 0, p.child('port')));
        break;
      case 'sleep': {
        const secs = typeof act.seconds === 'number' ? act.seconds : 0;
        if (grace !== undefined && grace !== null && (secs <= 0 || secs > grace)) {
          errs.push(
            invalid(
              p,
              secs,
              `must be greater than 0 and less than terminationGracePeriodSeconds (${grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
            ),
          );
        }
        break;
      }
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}
