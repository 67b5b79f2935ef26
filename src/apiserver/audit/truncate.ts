// kube's audit truncate backend (plugin/pkg/audit/truncate), which --audit-<backend>-truncate-enabled
// puts between the batching and a backend: an event whose JSON is larger than the max event size loses
// its request and response objects (annotated audit.k8s.io/truncated: "true"); one still too large is
// dropped and reported; the rest go on in batches no larger than the max batch size.
//
// Used by setup.ts only; called from one thread (the request path in blocking modes, the batch loop
// in batch mode).

import type { AuditEvent } from './event.ts';
import { levelAtLeast } from './policy.ts';
import { encodeEvent } from './writer.ts';

export interface TruncateConfig {
  /** Bytes of one event's JSON (kube's --audit-<backend>-truncate-max-event-size). */
  maxEventSize: number;
  /** Bytes of one batch's events (kube's --audit-<backend>-truncate-max-batch-size). */
  maxBatchSize: number;
}

/** kube's defaults: 100 KiB per event, 10 MiB per batch. */
export const DEFAULT_TRUNCATE: TruncateConfig = { maxEventSize: 100 * 1024, maxBatchSize: 10 * 1024 * 1024 };

export const TRUNCATED_ANNOTATION = 'audit.k8s.io/truncated';

/** An event's size as kube's sizer counts it: the bytes its JSON encoder writes (the newline too). */
function sizeOf(ev: AuditEvent): number {
  return Buffer.byteLength(encodeEvent(ev));
}

/** utilerrors.NewAggregate(...).Error(): one message, or the distinct ones in brackets. */
function aggregate(messages: string[]): string {
  const distinct = [...new Set(messages)];
  return distinct.length === 1 ? distinct[0]! : `[${distinct.join(', ')}]`;
}

/**
 * `events` as the truncate backend's ProcessEvents hands them on: in batches, in order; events that
 * cannot be brought under the limit are reported through `log` and left out.
 */
export function truncateBatches(events: readonly AuditEvent[], config: TruncateConfig, log: (msg: string) => void): AuditEvent[][] {
  const out: AuditEvent[][] = [];
  const errors: string[] = [];
  let batch: AuditEvent[] = [];
  let batchSize = 0;
  for (let ev of events) {
    let size = sizeOf(ev);
    if (size > config.maxEventSize && levelAtLeast(ev.level, 'Request')) {
      ev = { ...ev, requestObject: undefined, responseObject: undefined, annotations: { ...ev.annotations, [TRUNCATED_ANNOTATION]: 'true' } };
      size = sizeOf(ev);
    }
    if (size > config.maxEventSize) {
      errors.push('event is too large even after truncating');
      continue;
    }
    if (batch.length > 0 && batchSize + size > config.maxBatchSize) {
      out.push(batch);
      batch = [];
      batchSize = 0;
    }
    batchSize += size;
    batch.push(ev);
  }
  if (batch.length > 0) out.push(batch);
  if (errors.length > 0) log(`Error in audit plugin 'truncate' affecting ${errors.length} audit events: ${aggregate(errors)}`);
  return out;
}
