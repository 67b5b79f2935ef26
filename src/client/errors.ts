// Failures the client reports. An ApiError is the server's answer (a metav1.Status, or one synthesised
// from a non-Status error body the way client-go does); transport failures surface as Node's own coded
// errors (ECONNREFUSED, ECONNRESET, CERT_*...), and client-side misconfiguration as ClientConfigError.

import type { Status } from '../util/status.ts';

export class ApiError extends Error {
  /** HTTP status code (== status.code). */
  readonly code: number;
  /** Status reason: NotFound, AlreadyExists, Conflict, Invalid, Expired, Unauthorized... */
  readonly reason: string;
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? `request failed with code ${status.code ?? 'unknown'}`);
    this.name = 'ApiError';
    this.code = status.code ?? 0;
    this.reason = status.reason ?? '';
    this.status = status;
  }
}

export class ClientConfigError extends Error {
  readonly code = 'ERR_CLIENT_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ClientConfigError';
  }
}

export class ClientTimeoutError extends Error {
  readonly code = 'ERR_CLIENT_TIMEOUT';
  constructor(method: string, path: string, ms: number) {
    super(`${method} ${path}: no answer from the server within ${ms} ms`);
    this.name = 'ClientTimeoutError';
  }
}

/** No TCP connection to the server within the connect timeout (a host that drops packets). */
export class ClientConnectTimeoutError extends Error {
  readonly code = 'ERR_CLIENT_CONNECT_TIMEOUT';
  constructor(server: string, ms: number) {
    super(`dial ${server}: i/o timeout (no connection within ${ms} ms)`);
    this.name = 'ClientConnectTimeoutError';
  }
}

/** The watch stream carried bytes that are not a sequence of JSON watch events. */
export class WatchDecodeError extends Error {
  readonly code = 'ERR_WATCH_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'WatchDecodeError';
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'AlreadyExists';
}
export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.code === 403;
}
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'Conflict';
}
/** 410: the resourceVersion or continue token is too old; the caller must re-list. */
export function isExpired(err: unknown): boolean {
  return err instanceof ApiError && err.code === 410;
}

// Reasons client-go's errors.NewGenericServerResponse assigns when the body is not a Status.
const REASONS: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
  403: ['Forbidden', 'the server does not allow access to the requested resource'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  406: ['NotAcceptable', 'the server was unable to respond with a content type that the client supports'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Gone', 'the server has asked for the client to re-list'],
  413: ['RequestEntityTooLarge', 'the server has rejected the request because it is too large'],
  415: ['UnsupportedMediaType', 'the server was unable to handle the media type'],
  422: ['Invalid', 'the server rejected our request due to an error in our request'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'an error on the server has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted'],
};

/** Builds the ApiError for a non-2xx response from its code and raw body. */
export function errorFromResponse(code: number, body: string): ApiError {
  const status = asStatus(body);
  if (status) {
    status.code ??= code;
    return new ApiError(status);
  }
  const [reason, generic] = REASONS[code] ?? ['Unknown', `an error on the server ("${body.slice(0, 200)}") has prevented the request from succeeding`];
  const text = body.trim();
  const message = text && text.length < 1024 && code >= 500 ? `${generic} (${text})` : generic;
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** A metav1.Status from a parsed JSON value, if it is one. */
export function statusFromObject(obj: unknown): Status | undefined {
  if (typeof obj !== 'object' || obj === null || (obj as Record<string, unknown>).kind !== 'Status') return undefined;
  return obj as Status;
}

function asStatus(body: string): Status | undefined {
  if (!body.startsWith('{')) return undefined;
  try {
    return statusFromObject(JSON.parse(body));
  } catch {
    return undefined;
  }
}
