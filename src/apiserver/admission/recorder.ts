// What admission may add to a request besides admitting or refusing it: warnings for the client and
// annotations for the audit log (kube's warning.AddWarning and audit.AddAuditAnnotation).
//
// One RequestRecord per request, found by the request (requestRecord(req)), so the parts of the
// server that answer (Warning headers) and that log (the audit event) read what admission added.
// Plugins of one request run one after another; a record is not shared between requests.

import type { IncomingMessage } from 'node:http';

export interface RequestRecorder {
  /** A warning the response carries as a `Warning: 299 - "text"` header; the same text twice is sent once. */
  warn(text: string): void;
  /** An annotation on the request's audit event; a key already set keeps its first value. */
  addAuditAnnotation(key: string, value: string): void;
}

export class RequestRecord implements RequestRecorder {
  readonly warnings: string[] = [];
  readonly auditAnnotations: Record<string, string> = {};

  warn(text: string): void {
    if (text && !this.warnings.includes(text)) this.warnings.push(text);
  }

  addAuditAnnotation(key: string, value: string): void {
    if (!(key in this.auditAnnotations)) this.auditAnnotations[key] = value;
  }
}

const records = new WeakMap<IncomingMessage, RequestRecord>();

/** The record of a request, made on first use. */
export function requestRecord(req: IncomingMessage): RequestRecord {
  let r = records.get(req);
  if (!r) records.set(req, (r = new RequestRecord()));
  return r;
}

/** The warnings admission gave a request (none if it recorded nothing). */
export function recordedWarnings(req: IncomingMessage): readonly string[] {
  return records.get(req)?.warnings ?? [];
}

/** A recorder that keeps nothing: for admission run outside an HTTP request (tests, the server's own writes). */
export const discardRecorder: RequestRecorder = { warn() {}, addAuditAnnotation() {} };
