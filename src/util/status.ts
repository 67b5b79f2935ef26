// Kubernetes-shaped failures. Anything that should reach a client as a metav1.Status is thrown as a
// StatusError (or returned as one); the HTTP layer writes `toStatus()` with the same HTTP code.
// Messages follow the real apiserver's wording, because kubectl prints them verbatim.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message };
    // A Status a REST handler returns as its result (the eviction's "more than one budget") has no reason.
    if (this.reason) s.reason = this.reason;
    if (this.details) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

/** `resource` is the plural resource name with group suffix when not core ("pods", "leases.coordination.k8s.io"). */
export function notFound(resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, ...groupKind(resource) });
}

export function alreadyExists(resource: string, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, ...groupKind(resource) });
}

export function conflict(resource: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, ...groupKind(resource) });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function forbidden(resource: string, name: string, why: string, causes?: StatusCause[]): StatusError {
  const what = name ? `${resource} "${name}"` : resource;
  const details: StatusDetails = { ...groupKind(resource) };
  if (name) details.name = name;
  if (causes) details.causes = causes;
  return new StatusError(403, 'Forbidden', `${what} is forbidden: ${why}`, details);
}

export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${JSON.stringify(contentType)})`);
}

/** kube-apiserver's limitedReadBody refusal (errors.NewRequestEntityTooLargeError). */
export function requestEntityTooLarge(limitBytes: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function internalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

export function timeout(message: string): StatusError {
  return new StatusError(504, 'Timeout', message);
}

/** Wraps anything thrown into a StatusError (unknown errors become 500 InternalError). */
export function toStatusError(err: unknown): StatusError {
  return err instanceof StatusError ? err : internalError(err);
}

function groupKind(resource: string): { kind: string; group?: string } {
  const dot = resource.indexOf('.');
  if (dot < 0) return { kind: resource };
  return { kind: resource.slice(0, dot), group: resource.slice(dot + 1) };
}
