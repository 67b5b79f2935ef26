// One request's audit event (audit.k8s.io/v1 Event), filled in as the request goes through the
// pipeline and handed to the sink at each stage, as k8s.io/apiserver pkg/audit (context.go,
// request.go) does. One RequestAudit per request; not shared between requests; the sink is called
// synchronously and the event object is reused for the next stage, so a sink that keeps events
// (batch mode) copies them.

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Clock } from '../../util/clock.ts';
import { levelAtLeast, type AuditLevel, type AuditStage, type PolicyAttributes, type RequestAuditConfig } from './policy.ts';

export interface AuditUserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuditObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** metav1.Status as the audit event carries it: no kind/apiVersion, `metadata: {}` always. */
export interface AuditResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code?: number;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: AuditUserInfo;
  impersonatedUser?: AuditUserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectReference;
  responseStatus?: AuditResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/**
 * Where events go. Called synchronously at each stage, concurrently for many requests (one call at a
 * time, as Node runs them); returns false when the event could not be stored.
 */
export interface AuditSink {
  processEvent(ev: AuditEvent): boolean;
}

/** kube truncates user agents longer than this. */
const MAX_USER_AGENT = 1024;

/** metav1.MicroTime's text: RFC 3339 with six fractional digits, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The addresses a request came from, as utilnet.SourceIPs reads them: X-Forwarded-For, then
 * X-Real-Ip, then the connection's peer, without repeats.
 */
export function sourceIPs(req: IncomingMessage): string[] {
  const out: string[] = [];
  const add = (raw: string | undefined) => {
    const ip = normalizeIP(raw?.trim() ?? '');
    if (ip && !out.includes(ip)) out.push(ip);
  };
  const fwd = req.headers['x-forwarded-for'];
  for (const v of (Array.isArray(fwd) ? fwd.join(',') : (fwd ?? '')).split(',')) add(v);
  const real = req.headers['x-real-ip'];
  add(Array.isArray(real) ? real[0] : real);
  add(req.socket?.remoteAddress);
  return out;
}

function normalizeIP(s: string): string | undefined {
  if (!isIP(s)) return undefined;
  // Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; Go prints them as a.b.c.d.
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return m ? m[1] : s;
}

export function auditUser(u: { name: string; uid?: string; groups: readonly string[]; extra?: Record<string, string[]> }): AuditUserInfo {
  const out: AuditUserInfo = { username: u.name };
  if (u.uid) out.uid = u.uid;
  if (u.groups.length) out.groups = [...u.groups];
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}

/** The per-request audit context. A request whose policy level is None records nothing. */
export class RequestAudit {
  readonly auditID: string;
  readonly config: RequestAuditConfig;
  readonly #sink: AuditSink | undefined;
  readonly #clock: Clock;
  readonly #event: AuditEvent;

  constructor(auditID: string, config: RequestAuditConfig, sink: AuditSink | undefined, clock: Clock, receivedAt: number) {
    this.auditID = auditID;
    this.config = config;
    this.#sink = sink;
    this.#clock = clock;
    const ts = microTime(receivedAt);
    this.#event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: config.level, auditID, stage: 'RequestReceived', requestURI: '', verb: '', user: { username: '' }, requestReceivedTimestamp: ts, stageTimestamp: ts };
  }

  get enabled(): boolean {
    return this.config.level !== 'None' && this.#sink !== undefined;
  }

  /** True when the response body belongs in the event (level RequestResponse). */
  get wantsResponseObject(): boolean {
    return this.enabled && levelAtLeast(this.config.level, 'RequestResponse');
  }

  /** LogRequestMetadata: who asked what, from where. `attrs.user` is the authenticated (not impersonated) user. */
  logRequestMetadata(req: IncomingMessage, attrs: PolicyAttributes & { apiVersion: string; user?: { name: string; uid?: string; groups: readonly string[]; extra?: Record<string, string[]> } }): void {
    const ev = this.#event;
    ev.requestURI = req.url ?? '/';
    ev.verb = attrs.verb;
    if (attrs.user) ev.user = auditUser(attrs.user);
    ev.sourceIPs = sourceIPs(req);
    const ua = req.headers['user-agent'];
    if (ua) ev.userAgent = ua.length > MAX_USER_AGENT ? `${ua.slice(0, MAX_USER_AGENT)}...TRUNCATED` : ua;
    if (attrs.isResourceRequest) {
      ev.objectRef = dropEmpty({ resource: attrs.resource, namespace: attrs.namespace, name: attrs.name, apiGroup: attrs.apiGroup, apiVersion: attrs.apiVersion, subresource: attrs.subresource });
    }
  }

  setImpersonatedUser(u: { name: string; uid?: string; groups: readonly string[]; extra?: Record<string, string[]> }): void {
    if (!this.enabled) return;
    this.#event.impersonatedUser = auditUser(u);
  }

  /**
   * Adds an annotation (authorization decisions, admission plugins' findings). The first value set
   * for a key stays, as kube's addAuditAnnotationLocked keeps it.
   */
  addAnnotation(key: string, value: string): void {
    if (!this.enabled) return;
    const a = (this.#event.annotations ??= {});
    if (!(key in a)) a[key] = value;
  }

  /** The decoded request object: fills the object reference's blanks; kept at level Request and above. */
  logRequestObject(obj: unknown): void {
    if (!this.enabled || !isRecord(obj)) return;
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const ref = (this.#event.objectRef ??= {});
    const fill = (k: 'namespace' | 'name' | 'uid' | 'resourceVersion') => {
      if (!ref[k] && typeof meta[k] === 'string' && meta[k] !== '') ref[k] = meta[k];
    };
    fill('namespace');
    fill('name');
    fill('uid');
    fill('resourceVersion');
    // A copy: the store fills in the object it was given (uid, creationTimestamp), and the event
    // records the request as it came.
    if (levelAtLeast(this.config.level, 'Request')) this.#event.requestObject = this.#withoutManagedFields(structuredClone(obj));
  }

  /** A patch body is the request object as sent (kube's LogRequestPatch). */
  logRequestPatch(raw: Buffer): void {
    if (!this.enabled || !levelAtLeast(this.config.level, 'Request')) return;
    try {
      this.#event.requestObject = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      // A YAML apply patch: recorded as its text.
      this.#event.requestObject = raw.toString('utf8');
    }
  }

  /** The body of the response: a Status becomes responseStatus; the body itself is kept at RequestResponse. */
  logResponseObject(body: unknown): void {
    if (!this.enabled) return;
    if (isRecord(body) && body.kind === 'Status' && (body.apiVersion === 'v1' || body.apiVersion === undefined)) {
      this.#event.responseStatus = dropEmpty({ metadata: {}, status: body.status, message: body.message, reason: body.reason, details: body.details, code: body.code }) as AuditResponseStatus;
    }
    if (levelAtLeast(this.config.level, 'RequestResponse')) this.#event.responseObject = this.#withoutManagedFields(body);
  }

  /** The HTTP status code written (kube's auditResponseWriter.processCode). */
  setResponseCode(code: number): void {
    if (!this.enabled) return;
    const rs = (this.#event.responseStatus ??= { metadata: {} });
    rs.code = code;
  }

  get hasResponseStatus(): boolean {
    return this.#event.responseStatus !== undefined;
  }

  /** Hands the event to the sink for `stage`, unless the policy omits it. */
  processStage(stage: AuditStage): boolean {
    if (!this.enabled || this.config.omitStages.includes(stage)) return true;
    const ev = this.#event;
    ev.stage = stage;
    ev.stageTimestamp = stage === 'RequestReceived' ? ev.requestReceivedTimestamp : microTime(this.#clock.now());
    return this.#sink!.processEvent(ev);
  }

  #withoutManagedFields(obj: unknown): unknown {
    if (!this.config.omitManagedFields || !isRecord(obj)) return obj;
    const strip = (o: unknown): unknown => {
      if (!isRecord(o) || !isRecord(o.metadata) || !('managedFields' in o.metadata)) return o;
      const { managedFields: _drop, ...metadata } = o.metadata;
      return { ...o, metadata };
    };
    const out = strip(obj) as Record<string, unknown>;
    if (Array.isArray(out.items)) return { ...out, items: out.items.map(strip) };
    return out;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's omitempty for the event's string fields. */
function dropEmpty<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') out[k] = v;
  return out as T;
}

const byRequest = new WeakMap<IncomingMessage, RequestAudit>();

/** Makes the request's audit context reachable from the handlers (request and response objects). */
export function attachAudit(req: IncomingMessage, audit: RequestAudit): void {
  byRequest.set(req, audit);
}

/** The request's audit context, when it is audited. */
export function auditOf(req: IncomingMessage): RequestAudit | undefined {
  const a = byRequest.get(req);
  return a?.enabled ? a : undefined;
}
