// The response side of a request's audit event, as kube's auditResponseWriter and WithAudit's
// deferred function record it: the status code when the headers go out (and the ResponseStarted
// stage for long-running requests), ResponseComplete when the response ends, "Connection closed
// early" when it never did. Called once per audited request by the API server.

import type { ServerResponse } from 'node:http';
import type { RequestAudit } from './event.ts';

type Method = (...args: unknown[]) => unknown;

/**
 * Watches `res` for `audit`. ResponseComplete is written before the response's last bytes are handed
 * to the socket, so a client that has its answer finds the request's line in the log.
 * `startedStage`: record ResponseStarted when the headers go out (long-running requests, and
 * failed authentications, whose only stage it is). `completeStage` false: no ResponseComplete.
 */
export function trackResponse(res: ServerResponse, audit: RequestAudit, startedStage: boolean, completeStage = true): { finished(): boolean; markFinished(): void } {
  let finished = !audit.enabled;
  let headers = false;
  const r = res as unknown as Record<'writeHead' | 'end', Method>;
  const writeHead = r.writeHead!.bind(res);
  const end = r.end!.bind(res);
  const onHeaders = (code: number) => {
    if (headers) return;
    headers = true;
    audit.setResponseCode(code);
    if (startedStage) audit.processStage('ResponseStarted');
  };
  const complete = () => {
    if (finished) return;
    finished = true;
    if (!audit.hasResponseStatus) {
      // The client went away before an answer (kube's fakedSuccessStatus).
      audit.logResponseObject({ kind: 'Status', apiVersion: 'v1', status: 'Success', message: 'Connection closed early', code: 200 });
      if (startedStage) audit.processStage('ResponseStarted');
    }
    if (completeStage) audit.processStage('ResponseComplete');
  };
  if (audit.enabled) {
    // Node's implicit headers (write/end/flushHeaders without writeHead) go through writeHead too.
    r.writeHead = (...args: unknown[]) => {
      onHeaders(typeof args[0] === 'number' ? args[0] : res.statusCode);
      return writeHead(...args);
    };
    r.end = (...args: unknown[]) => {
      if (!res.headersSent) onHeaders(res.statusCode);
      complete();
      return end(...args);
    };
    res.once('close', complete);
  }
  return {
    finished: () => finished,
    markFinished: () => {
      finished = true;
    },
  };
}
