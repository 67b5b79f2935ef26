// The API server's HTTP handling: the request pipeline (authenticate → authorize → route → mutating
// admission → defaults and validation → validating admission → store, the same for every verb and
// for upgrades), discovery, and Kubernetes REST semantics for every kind in the registry, driven by
// the kinds' definitions. Building it is separate from listening (src/cmd does that), so tests drive
// it in-process on port 0.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../api/types.ts';
import { badRequest, methodNotAllowed, notFound, StatusError, toStatusError, unauthorized, type Status } from '../util/status.ts';
import { realClock, type Clock } from '../util/clock.ts';
import type { Registry } from '../registry/registry.ts';
import type { ListParams, Store, StoreWatch, StoreWatchEvent } from '../registry/store.ts';
import { parseRequestInfo, type RequestInfo, type ResourceRequest } from './requestinfo.ts';
import { queryBool } from '../api/queryparams.ts';
import { goJsonType, jsonErrorMessage } from './decode/gojson.ts';
import { prefersProtobuf, readBody, successStatus, writeJSON, writeJSONList, writeStatus } from './respond.ts';
import { encodeWatchFrame, messageFor, PROTOBUF_WATCH_MEDIA_TYPE } from './protobuf/envelope.ts';
import { ProtoEncodeError } from './protobuf/codec.ts';
import { aggregatedContentType, aggregatedDiscovery, negotiateAggregated, apiGroupDoc, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import { versionInfo } from './version.ts';
import { buildFilter } from './selectors.ts';
import { parseListOptions, queryInt64 } from './listoptions.ts';
import { decodeObject, type DecodeResult } from './decoding.ts';
import { applyPatch } from './patching.ts';
import { buildTable, parseIncludeObject, tableForObject, wantsTable, WatchTableEncoder, type TableOptions } from './tables/index.ts';
import { handleOpenAPI, registryOpenAPI } from './openapi/handler.ts';
import { readSubresourceBody, serveConnect, type ConnectHandler } from './subresources.ts';
import { serveScale } from './scale.ts';
import { managerOf, trackWrite, validateFieldManager } from './fieldmanager.ts';
import type { User } from './auth/user.ts';
import { impersonatedUser, impersonationChecks, parseImpersonation } from './auth/impersonation.ts';
import { invalidError } from '../api/field.ts';
import { UNAUTHENTICATED_ADMIN } from './auth/user.ts';
import type { ServiceAccountTokens } from './auth/serviceaccount/tokens.ts';
import { alwaysAllow, forbiddenMessage, type AuthorizationAttributes, type Authorizer, type RuleResolver } from './auth/authorizer.ts';
import type { TokenAuthenticator } from './auth/user.ts';
import { parseFieldSelector, type FieldSelectorValue } from '../api/fields.ts';
import type { AdmissionChain } from './admission/chain.ts';
import type { AdmissionAttributes, AdmissionOperation } from './admission/types.ts';
import { defaultAdmission } from './admission/plugins.ts';
import type { AdmissionPluginConfigs } from './admission/config.ts';
import { recordedWarnings, requestRecord } from './admission/recorder.ts';
import type { OpenAPIDocuments } from './openapi/documents.ts';
import { randomUUID } from 'node:crypto';
import { DEFAULT_IN_FLIGHT_LIMITS, InFlightLimiter, isLongRunning, writeTooManyRequests, type InFlightLimits } from './maxinflight.ts';
import { attachAudit, auditOf, RequestAudit, type AuditSink } from './audit/event.ts';
import { evaluatePolicy, type AuditPolicy, type RequestAuditConfig } from './audit/policy.ts';
import { trackResponse } from './audit/response.ts';

export type { User };

export interface ApiServerOptions {
  registry: Registry;
  clock?: Clock;
  /** Returns the caller, or null when the credentials are missing or invalid. Absent = no authentication (tests). */
  authenticate?: (req: IncomingMessage) => User | null | Promise<User | null>;
  /** Decides what each user may do. Absent = every authenticated user may do everything (until RBAC). */
  authorizer?: Authorizer;
  /**
   * What a user may do, as rules (SelfSubjectRulesReview, `kubectl auth can-i --list`). Absent: with
   * no authorizer, everything (kube's AlwaysAllow rules); with one, the answer is incomplete.
   */
  ruleResolver?: RuleResolver;
  /** Bearer tokens, for TokenReview; absent = TokenReviews answer without a status, as kube-apiserver without token authenticators. */
  tokenAuthenticator?: TokenAuthenticator;
  /** The audiences the API server accepts tokens for (kube-apiserver's --api-audiences): a TokenReview naming none is checked against these. */
  apiAudiences?: readonly string[];
  /** The admission chain; absent = the default plugins (admission/plugins.ts), started by the server. */
  admission?: AdmissionChain;
  /** The default plugins' configurations (--admission-control-config-file). */
  admissionConfig?: AdmissionPluginConfigs;
  /** OpenAPI documents to serve; absent = the built-in kinds' documents. */
  openapi?: OpenAPIDocuments;
  /** Paths served without credentials (/version, health). */
  isAnonymousPath?: (path: string) => boolean;
  /** Address reported in legacy /api discovery. */
  serverAddress?: string;
  /** Proxies log/exec/attach/portforward to the pod's node agent. */
  connect?: ConnectHandler;
  /**
   * Service-account tokens: signs TokenRequests (serviceaccounts/token) and serves the issuer's
   * discovery document and key set (/.well-known/openid-configuration, /openid/v1/jwks).
   */
  serviceAccountTokens?: ServiceAccountTokens;
  /** Longest a watch without timeoutSeconds stays open (the apiserver uses 30-60 min, randomised). */
  maxWatchSeconds?: number;
  /** How often bookmarks are sent to watchers that asked for them. */
  bookmarkIntervalMs?: number;
  /** Requests served at once (kube-apiserver's max-in-flight filter); absent = kube's defaults, 400 and 200. */
  inFlight?: InFlightLimits;
  /** The audit policy and where its events go (--audit-policy-file, --audit-log-path); absent = no audit. */
  audit?: { policy: AuditPolicy; sink: AuditSink };
}

export interface ApiServer {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends open watches (on shutdown). */
  close(): void;
}

type Query = URLSearchParams;

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const registry = opts.registry;
  const clock = opts.clock ?? realClock;
  const watches = new Set<() => void>();
  const serverAddress = opts.serverAddress ?? '127.0.0.1:6443';
  const maxWatchSeconds = opts.maxWatchSeconds ?? 1800;
  const bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;

  const authorizer = opts.authorizer ?? alwaysAllow;
  const limiter = new InFlightLimiter(opts.inFlight ?? DEFAULT_IN_FLIGHT_LIMITS);
  const reviewServices = {
    authorizer,
    ruleResolver: opts.ruleResolver ?? (opts.authorizer ? undefined : alwaysAllowRules),
    tokens: opts.tokenAuthenticator ? { authenticator: opts.tokenAuthenticator, apiAudiences: opts.apiAudiences ?? [] } : undefined,
  };
  const openapiDocs = registryOpenAPI(registry);
  const ownAdmission = !opts.admission;
  const admission = opts.admission ?? defaultAdmission(registry, opts.authorizer, opts.admissionConfig);
  // The default chain fills its caches in the background; writes wait for it (at once, after start).
  const admissionReady = ownAdmission ? admission.start() : Promise.resolve();
  admissionReady.catch((err: unknown) => console.error(`tinykube: admission did not start: ${(err as Error).message}`));

  /** Step 1: the caller. Anonymous paths (/version, /healthz...) are served to callers without credentials. */
  async function authenticate(req: IncomingMessage, path: string): Promise<User> {
    if (!opts.authenticate) return UNAUTHENTICATED_ADMIN;
    const user = await opts.authenticate(req);
    if (user) return user;
    if (opts.isAnonymousPath?.(path)) return ANONYMOUS;
    throw unauthorized();
  }

  /** Impersonation headers: the request runs as the impersonated user once the caller may impersonate it. */
  async function actAs(req: IncomingMessage, user: User, audit?: RequestAudit): Promise<User> {
    const imp = parseImpersonation(req.headersDistinct);
    if (!imp) return user;
    for (const a of impersonationChecks(user, imp)) await authorize(a);
    const acting = impersonatedUser(imp);
    audit?.setImpersonatedUser(acting);
    return acting;
  }

  /**
   * Step 2: may the caller do this? A 403 is the Status kube-apiserver writes. With `audit`, the
   * decision and its reason are the event's authorization.k8s.io annotations, as kube's
   * authorization filter adds them.
   */
  async function authorize(a: AuthorizationAttributes, audit?: RequestAudit): Promise<void> {
    let r: Awaited<ReturnType<Authorizer['authorize']>>;
    try {
      r = await authorizer.authorize(a);
    } catch (err) {
      audit?.addAnnotation('authorization.k8s.io/reason', 'internal error');
      throw err;
    }
    audit?.addAnnotation('authorization.k8s.io/decision', r.decision === 'allow' ? 'allow' : 'forbid');
    audit?.addAnnotation('authorization.k8s.io/reason', r.reason);
    if (r.decision === 'allow') return;
    const details = a.isResourceRequest ? { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource } : undefined;
    throw new StatusError(403, 'Forbidden', forbiddenMessage(a, r.reason), details);
  }

  function admissionAttributes(req: IncomingMessage, operation: AdmissionOperation, store: Store, info: ResourceRequest, ns: string | undefined, user: User, query: Query, name = info.name): AdmissionAttributes {
    const record = requestRecord(req);
    const audit = auditOf(req);
    return {
      operation, resource: store.info, subresource: info.subresource, namespace: ns, name, user, dryRun: isDryRun(query),
      warn: (text) => record.warn(text),
      // The audit event is what the log writes; a request not audited keeps nothing.
      addAuditAnnotation: (key, value) => audit?.addAnnotation(key, value),
    };
  }

  /**
   * The filters in front of the routes, in kube-apiserver's order: audit ID, authentication (a
   * failure audited on its own), audit, impersonation, max-in-flight, authorization.
   */
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = clock.now();
    const auditID = auditIDOf(req);
    res.setHeader('Audit-Id', auditID);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const query = url.searchParams;
    const method = req.method ?? 'GET';
    const info = parseRequestInfo(method, path, query);
    let authenticated: User;
    try {
      authenticated = await authenticate(req, path);
    } catch (err) {
      // kube's WithFailedAuthenticationAudit: no user, and ResponseStarted is the only stage.
      const attrs = { ...authorizationAttributes(ANONYMOUS, method, info, path, query), user: undefined };
      const audit = beginAudit(req, auditID, receivedAt, attrs);
      trackResponse(res, audit, true, false);
      throw err;
    }
    const attrs = authorizationAttributes(authenticated, method, info, path, query);
    const audit = beginAudit(req, auditID, receivedAt, attrs);
    const tracked = trackResponse(res, audit, isLongRunning(attrs));
    if (!audit.processStage('RequestReceived')) {
      // blocking-strict: a request whose event cannot be stored is not served (kube's WithAudit).
      tracked.markFinished();
      throw new StatusError(500, 'InternalError', 'Internal error occurred: failed to store audit event');
    }
    let release = () => {};
    try {
      // URL parsing resolves dot segments (also %2e%2e), which would turn /namespaces/%2e%2e/pods into
      // the cluster-wide /pods: such a path addresses nothing here.
      if (/(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i.test((req.url ?? '/').split('?')[0]!)) throw pageNotFound();
      const user = await actAs(req, authenticated, audit);
      const slot = limiter.admit({ ...attrs, groups: user.groups });
      if (!slot.admitted) return writeTooManyRequests(req, res);
      release = slot.release;
      await authorize(authorizationAttributes(user, method, info, path, query), audit);
      await route(req, res, path, query, user, info);
    } catch (err) {
      if (!(err instanceof StatusError) && audit.enabled && !tracked.finished()) {
        // An unexpected failure is kube's Panic stage (its handlers panic where ours throw).
        tracked.markFinished();
        audit.logResponseObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', message: `APIServer panic'd: ${err instanceof Error ? err.message : String(err)}`, code: 500 });
        audit.processStage('Panic');
      }
      throw err;
    } finally {
      release();
    }
  }

  /** Evaluates the audit policy for a request and fills the event's request metadata. */
  function beginAudit(req: IncomingMessage, auditID: string, receivedAt: number, attrs: Omit<AuthorizationAttributes, 'user'> & { user?: User }): RequestAudit {
    const config = opts.audit ? evaluatePolicy(opts.audit.policy, attrs) : NO_AUDIT;
    const audit = new RequestAudit(auditID, config, opts.audit?.sink, clock, receivedAt);
    attachAudit(req, audit);
    if (audit.enabled) audit.logRequestMetadata(req, attrs);
    return audit;
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: Query, user: User, info: RequestInfo): Promise<void> {
    const segs = path.split('/').filter(Boolean);
    const readOnly = ['/version', '/healthz', '/livez', '/readyz', '/api', '/apis'].includes(path) || path.startsWith('/openapi/') || (segs[0] === 'api' && segs.length === 2) || (segs[0] === 'apis' && (segs.length === 2 || segs.length === 3));
    if (readOnly && req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    switch (path) {
      case '/version':
        return writeJSON(req, res, 200, versionInfo());
      case '/healthz':
      case '/livez':
      case '/readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end('ok');
        return;
      case '/api':
      case '/apis': {
        const core = path === '/api';
        const aggregated = negotiateAggregated(req.headers.accept);
        if (aggregated) {
          return writeJSON(req, res, 200, aggregatedDiscovery(registry.kinds(), core, aggregated), { 'Content-Type': aggregatedContentType(aggregated), Vary: 'Accept' });
        }
        return writeJSON(req, res, 200, core ? apiVersions(serverAddress) : apiGroupList(registry.kinds()), { Vary: 'Accept' });
      }
    }
    if ((path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks') && opts.serviceAccountTokens) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
      // As kube-apiserver's issuer discovery: public documents that relying parties may cache for an hour.
      const sat = opts.serviceAccountTokens;
      const jwks = path === '/openid/v1/jwks';
      return writeJSON(req, res, 200, jwks ? await sat.jwks() : sat.discovery(), { 'Content-Type': jwks ? 'application/jwk-set+json' : 'application/json', 'Cache-Control': 'public, max-age=3600' });
    }
    if (path.startsWith('/openapi/')) {
      if (handleOpenAPI(req, res, path, query, opts.openapi ?? openapiDocs())) return;
      throw notFound('', path);
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList(registry.kinds(), '', parts[1]!);
      if (!doc) throw pageNotFound();
      return writeJSON(req, res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroupDoc(registry.kinds(), parts[1]!);
      if (!doc) throw pageNotFound();
      return writeJSON(req, res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(registry.kinds(), parts[1]!, parts[2]!);
      if (!doc) throw pageNotFound();
      return writeJSON(req, res, 200, doc);
    }
    if (info.kind !== 'resource') throw pageNotFound();
    const store = registry.lookup(info.group, info.version, info.resource);
    if (!store) throw pageNotFound();
    if (store.info.namespaced && !info.namespace && info.name) throw pageNotFound();
    if (!store.info.namespaced && info.namespace) throw pageNotFound();
    if (info.subresource && !(store.info.subresources ?? []).includes(info.subresource)) throw pageNotFound();
    // Only proxy subresources take a path of their own: /pods/x/status/extra addresses nothing.
    if (info.rest.length && info.subresource !== 'proxy') throw pageNotFound();
    await serveResource(req, res, store, info, query, user);
  }

  async function serveResource(req: IncomingMessage, res: ServerResponse, store: Store, info: ResourceRequest, query: Query, user: User): Promise<void> {
    const ns = store.info.namespaced ? info.namespace || undefined : undefined;
    const kind = store.kind;
    if (info.subresource) {
      const sub = kind.subresources[info.subresource]!;
      if (sub.connect) {
        await admission.validate(admissionAttributes(req, 'CONNECT', store, info, ns, user, query), undefined, undefined);
        return serveConnect({ req, res, registry, store, info, query, clock, connect: opts.connect });
      }
      if (sub.create) {
        if (req.method !== 'POST') throw methodNotAllowed();
        const gvk = sub.kind ?? { group: store.info.group, version: store.info.version, kind: store.info.kind };
        const body = await readSubresourceBody(req, gvk);
        auditOf(req)?.logRequestObject(body);
        const attrs = admissionAttributes(req, 'CREATE', store, info, ns, user, query);
        await admissionReady;
        await admission.admit(attrs, body, undefined);
        await admission.validate(attrs, body, undefined);
        const made = await sub.create({ store, stores: registry, namespace: ns, name: info.name, body, dryRun: isDryRun(query), clock, tokens: opts.serviceAccountTokens });
        return writeJSON(req, res, 201, made ?? successStatus());
      }
      if (sub.scale) {
        if (info.verb !== 'get') await admissionReady;
        const attrs = admissionAttributes(req, 'UPDATE', store, info, ns, user, query);
        return serveScale({ req, res, store, access: sub.scale, namespace: ns, name: info.name, dryRun: isDryRun(query), admission: admission.forWrite(attrs) });
      }
      if (!sub.update || !['get', 'update', 'patch'].includes(info.verb)) throw methodNotAllowed();
    }
    // A verb the kind does not serve (a review's get, a namespace's deletecollection) is a 405, as in kube-apiserver.
    if (!info.subresource && !kind.info.verbs.includes(info.verb)) throw methodNotAllowed();
    // Who writes, for metadata.managedFields (server-side apply records its own).
    // Reads skip it: only create, update and patch record a manager.
    const writes = info.verb === 'create' || info.verb === 'update' || info.verb === 'patch';
    const manager = writes ? managerOf(req, query) : undefined;
    if (manager !== undefined) validateFieldManager(manager, info.verb === 'create' ? 'CreateOptions' : info.verb === 'update' ? 'UpdateOptions' : 'PatchOptions');
    const track = trackWrite(kind, manager, info.subresource || undefined, clock);
    const write = (name = info.name) => {
      const attrs = admissionAttributes(req, 'CREATE', store, info, ns, user, query, name);
      return { dryRun: isDryRun(query), admission: admission.forWrite(attrs), track, user };
    };
    if (info.verb !== 'get' && info.verb !== 'list' && info.verb !== 'watch') await admissionReady;
    switch (info.verb) {
      case 'get': {
        const obj = info.subresource ? await store.get(ns, info.name) : await store.get(ns, info.name);
        return writeObject(req, res, 200, store, obj, query);
      }
      case 'list':
        return list(req, res, store, ns, query);
      case 'watch':
        return watch(req, res, store, ns, query);
      case 'create': {
        if (info.name && !info.subresource) throw methodNotAllowed();
        const body = await decodeRequest(req, store, query);
        checkNamespace(body.object, ns);
        if (kind.compute) {
          // A review: validated, computed for the caller, never stored. Its namespace is the URL's, as
          // kube-apiserver's create handler sets it. kube-apiserver's REST storages of reviews decode
          // into objects without a kind, so their 422 names none: `.authorization.k8s.io "" is invalid`.
          isDryRun(query);
          const meta = { ...(body.object.metadata ?? {}) };
          if (ns) meta.namespace = ns;
          else delete meta.namespace;
          body.object.metadata = meta;
          // The caller's fields are recorded before the review is computed, as kube-apiserver's create
          // handler does (a review that echoes its metadata answers with managedFields).
          track?.(body.object, undefined);
          const errs = kind.strategy.validate(body.object);
          if (errs.length) throw invalidError('', '', errs, kind.info.group || undefined);
          return writeJSON(req, res, 201, await kind.compute(body.object, { user, namespace: ns, ...reviewServices }));
        }
        const created = await store.create(ns, body.object, write(body.object.metadata?.name ?? ''));
        return writeObject(req, res, 201, store, created, query, body.warnings);
      }
      case 'update': {
        if (!info.name) throw methodNotAllowed();
        const body = await decodeRequest(req, store, query);
        checkNamespace(body.object, ns);
        const existing = await store.tryGet(ns, info.name);
        if (!existing && !info.subresource) {
          // PUT to a missing object creates it, for kinds that allow create-on-update (not pods).
          if (!kind.createOnUpdate) throw notFound(store.qualifiedResource, info.name);
          body.object.metadata = { ...(body.object.metadata ?? {}), name: info.name };
          const created = await store.create(ns, body.object, write());
          return writeObject(req, res, 201, store, created, query, body.warnings);
        }
        const updated = await store.update(ns, info.name, body.object, { ...write(), subresource: info.subresource || undefined });
        return writeObject(req, res, 200, store, updated, query, body.warnings);
      }
      case 'patch': {
        if (!info.name) throw methodNotAllowed();
        const raw = await readBody(req);
        auditOf(req)?.logRequestPatch(raw);
        const contentType = String(req.headers['content-type'] ?? '');
        const result = await applyPatch({ store, clock, admission: write().admission, track, user, namespace: ns, name: info.name, subresource: info.subresource, contentType, body: raw, query });
        return writeObject(req, res, result.created ? 201 : 200, store, result.object, query, result.warnings);
      }
      case 'delete': {
        if (info.subresource) throw methodNotAllowed();
        const opts = await deleteOptions(req, query);
        // Validating admission of a delete sees the request, not the stored object (no plugin needs it yet).
        await admission.validate(admissionAttributes(req, 'DELETE', store, info, ns, user, query), undefined, undefined);
        const out = await store.delete(ns, info.name, opts);
        // Pods, namespaces and other "return deleted object" kinds answer with the object.
        if (out.deleted && !kind.returnsDeletedObject) {
          return writeJSON(req, res, 200, successStatus({ name: info.name, kind: store.info.resource, uid: out.object.metadata?.uid, ...(store.info.group ? { group: store.info.group } : {}) }));
        }
        return writeObject(req, res, 200, store, out.object, query);
      }
      case 'deletecollection': {
        const listOpts = parseListOptions(query, false);
        const opts = await deleteOptions(req, query);
        const filter = buildFilter(store, listOpts.labelSelector, listOpts.fieldSelector);
        const all = await store.list({ namespace: ns, filter });
        const items: KubeObject[] = [];
        for (const obj of all.items) {
          try {
            await admission.validate(admissionAttributes(req, 'DELETE', store, info, obj.metadata?.namespace, user, query, obj.metadata!.name!), undefined, undefined);
            const out = await store.delete(obj.metadata?.namespace, obj.metadata!.name!, opts);
            items.push(out.object);
          } catch (err) {
            if (!(err instanceof StatusError && err.code === 404)) throw err;
          }
        }
        return writeJSON(req, res, 200, { kind: store.info.listKind, apiVersion: apiVersionOf(store), metadata: {}, items });
      }
      default:
        throw methodNotAllowed();
    }
  }

  async function decodeRequest(req: IncomingMessage, store: Store, query: Query): Promise<DecodeResult> {
    const raw = await readBody(req);
    const decoded = decodeObject(store.kind, String(req.headers['content-type'] ?? ''), raw, query.get('fieldValidation'));
    auditOf(req)?.logRequestObject(decoded.object);
    return decoded;
  }

  async function list(req: IncomingMessage, res: ServerResponse, store: Store, ns: string | undefined, query: Query): Promise<void> {
    const lo = parseListOptions(query, false);
    const filter = buildFilter(store, lo.labelSelector, lo.fieldSelector);
    const asTable = wantsTable(req.headers.accept);
    // An unpaginated JSON list is read in batches at the first batch's revision, each sent while the
    // next is read: the same consistent snapshot as one read, without holding every item at once.
    // (One read of 150,000 pods held ~450 MB of strings long enough to be promoted, and the major
    // GCs that followed cost more than the read.)
    const batched = !asTable && !lo.limit && !lo.continue;
    const out = await store.list({
      namespace: ns,
      filter,
      limit: batched ? LIST_BATCH : lo.limit,
      continue: lo.continue,
      resourceVersion: lo.resourceVersion,
      resourceVersionMatch: lo.resourceVersionMatch,
      encoded: !asTable,
    });
    const head = (metadata: Record<string, unknown>) => ({ kind: store.info.listKind, apiVersion: apiVersionOf(store), metadata });
    if (batched) {
      const rest = out.continue ? listRest(store, ns, filter, out.continue) : undefined;
      return writeJSONList(req, res, head({ resourceVersion: out.resourceVersion }), out.encoded ?? [], rest);
    }
    const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: out.resourceVersion };
    if (out.continue) listMeta.continue = out.continue;
    if (out.remainingItemCount !== undefined) listMeta.remainingItemCount = out.remainingItemCount;
    if (asTable) {
      return writeJSON(req, res, 200, buildTable(tableResource(store), store.kind.printer, out.items, listMeta, tableOptions(store, query)));
    }
    return writeJSONList(req, res, head(listMeta), out.encoded ?? []);
  }

  /** The batches of an unpaginated list after its first, read at the first one's revision. */
  async function* listRest(store: Store, ns: string | undefined, filter: ListParams['filter'], cont: string): AsyncGenerator<string[]> {
    let next: string | undefined = cont;
    while (next) {
      const out = await store.list({ namespace: ns, filter, limit: LIST_BATCH, continue: next, encoded: true });
      yield out.encoded ?? [];
      next = out.continue;
    }
  }

  async function watch(req: IncomingMessage, res: ServerResponse, store: Store, ns: string | undefined, query: Query): Promise<void> {
    const lo = parseListOptions(query, true);
    const filter = buildFilter(store, lo.labelSelector, lo.fieldSelector);
    const asTable = wantsTable(req.headers.accept);
    const bookmarks = lo.allowWatchBookmarks;
    const encoder = asTable ? new WatchTableEncoder(tableResource(store), store.kind.printer, tableOptions(store, query)) : undefined;
    // Typed Go clients (kubectl run -it's pod watch) prefer protobuf, which kube-apiserver streams.
    const protobuf = !asTable && prefersProtobuf(req) && messageFor(apiVersionOf(store), store.info.kind) !== undefined;
    let handle: StoreWatch | undefined;
    let ended = false;
    const pending: (string | Uint8Array)[] = [];
    let flushing = false;
    // store.watch delivers the initial ADDED events (and may fail) before it returns, that is before
    // the 200 is written: those wait in `pending` until the headers are out.
    let headersSent = false;
    const timers: { cancel(): void }[] = [];

    const flush = () => {
      if (!headersSent || pending.length === 0 || res.writableEnded) return;
      const chunk = protobuf ? Buffer.concat(pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))) : pending.join('');
      pending.length = 0;
      res.write(chunk);
    };
    const end = () => {
      if (ended) return;
      ended = true;
      handle?.close();
      for (const t of timers) t.cancel();
      watches.delete(end);
      if (headersSent) {
        flush();
        if (!res.writableEnded) res.end();
      }
    };
    const send = (ev: { type: string; object: unknown }, shared = false) => {
      if (ended) return;
      if (protobuf) pending.push(protobufFrame(ev.type, ev.object as Record<string, unknown>));
      else pending.push(shared ? serializeShared(ev.type, ev.object as object) : JSON.stringify(ev) + '\n');
      if (!flushing) {
        flushing = true;
        queueMicrotask(() => {
          flushing = false;
          flush();
        });
      }
    };
    const emit = (ev: StoreWatchEvent) => {
      if (encoder) {
        send({ type: ev.type, object: encoder.encode(ev.object, clock.now()) });
      } else {
        send({ type: ev.type, object: ev.object }, true);
      }
    };

    handle = await store.watch({
      namespace: ns,
      filter,
      resourceVersion: lo.resourceVersion,
      onEvent: emit,
      onError: (err: StatusError) => {
        send({ type: 'ERROR', object: err.toStatus() });
        queueMicrotask(end);
      },
    });
    res.writeHead(200, { 'Content-Type': protobuf ? PROTOBUF_WATCH_MEDIA_TYPE : 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    // kubectl waits for the headers before it reads events: send them now, not with the first event.
    res.flushHeaders();
    headersSent = true;
    if (ended) {
      // Failed before the headers went out (e.g. 410 Expired): send its ERROR event and finish.
      handle.close();
      flush();
      res.end();
      return;
    }
    flush();
    watches.add(end);
    req.on('close', end);
    res.on('close', end);
    const requested = lo.timeoutSeconds ?? 0;
    // Node's timers overflow past 2^31-1 ms (and then fire at once): cap longer requests below that.
    const seconds = requested > 0 ? Math.min(requested, 2_000_000) : maxWatchSeconds * (1 + Math.random());
    timers.push(clock.setTimeout(end, seconds * 1000));
    if (bookmarks) {
      const tick = () => {
        if (ended) return;
        send({ type: 'BOOKMARK', object: { kind: store.info.kind, apiVersion: apiVersionOf(store), metadata: { resourceVersion: String(handle!.lastRevision()) } } });
        timers.push(clock.setTimeout(tick, bookmarkIntervalMs));
      };
      timers.push(clock.setTimeout(tick, bookmarkIntervalMs));
    }
  }

  function tableOptions(store: Store, query: Query): TableOptions {
    return {
      now: clock.now(),
      includeObject: parseIncludeObject(query.get('includeObject')),
      objectType: { apiVersion: apiVersionOf(store), kind: store.info.kind },
    };
  }

  function writeObject(req: IncomingMessage, res: ServerResponse, code: number, store: Store, obj: KubeObject, query: Query, warnings: string[] = []): void {
    const headers: Record<string, string> = {};
    const all = [...warnings, ...recordedWarnings(req)];
    if (all.length) headers['Warning'] = warningHeader(all);
    if (wantsTable(req.headers.accept) && req.method === 'GET') {
      return writeJSON(req, res, code, tableForObject(tableResource(store), store.kind.printer, obj, tableOptions(store, query)), headers);
    }
    writeJSON(req, res, code, obj, headers);
  }

  return {
    handle(req, res) {
      serve(req, res).catch((err: unknown) => {
        // Warnings admission gave before a refusal still reach the client, as in kube-apiserver.
        const warnings = recordedWarnings(req);
        if (warnings.length && !res.headersSent) res.setHeader('Warning', warningHeader(warnings));
        writeStatus(req, res, err);
      });
    },
    upgrade(req, socket, head) {
      const receivedAt = clock.now();
      const auditID = auditIDOf(req);
      const url = new URL(req.url ?? '/', 'http://x');
      const method = req.method ?? 'GET';
      const info = parseRequestInfo(method, url.pathname, url.searchParams);
      let audit: RequestAudit | undefined;
      let authenticated = false;
      const fail = (err: unknown) => {
        const se = toStatusError(err);
        const status = se.toStatus();
        if (audit) {
          audit.logResponseObject(status);
          audit.setResponseCode(se.code);
          audit.processStage('ResponseStarted');
          if (authenticated) audit.processStage('ResponseComplete');
        }
        const body = JSON.stringify(status);
        socket.end(`HTTP/1.1 ${se.code} ${se.reason}\r\nAudit-Id: ${auditID}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      };
      void (async () => {
        // The same pipeline as every request: authenticate, audit, authorize, route, admit (CONNECT).
        let caller: User;
        try {
          caller = await authenticate(req, url.pathname);
        } catch (err) {
          audit = beginAudit(req, auditID, receivedAt, { ...authorizationAttributes(ANONYMOUS, method, info, url.pathname, url.searchParams), user: undefined });
          throw err;
        }
        authenticated = true;
        audit = beginAudit(req, auditID, receivedAt, authorizationAttributes(caller, method, info, url.pathname, url.searchParams));
        audit.processStage('RequestReceived');
        const user = await actAs(req, caller, audit);
        await authorize(authorizationAttributes(user, method, info, url.pathname, url.searchParams), audit);
        if (info.kind !== 'resource' || !opts.connect) throw pageNotFound();
        const store = registry.lookup(info.group, info.version, info.resource);
        if (!store || !store.kind.subresources[info.subresource]?.connect) throw pageNotFound();
        const ns = store.info.namespaced ? info.namespace || undefined : undefined;
        await admission.validate(admissionAttributes(req, 'CONNECT', store, info, ns, user, url.searchParams), undefined, undefined);
        const upgraded = audit;
        socket.once('close', () => {
          // The session is over (kube's WithAudit returns when the hijacked stream ends).
          if (!upgraded.hasResponseStatus) {
            upgraded.setResponseCode(101);
            upgraded.processStage('ResponseStarted');
          }
          upgraded.processStage('ResponseComplete');
        });
        await opts.connect.upgrade({ req, socket, head, registry, info, query: url.searchParams });
        if (!socket.destroyed && !upgraded.hasResponseStatus) {
          upgraded.setResponseCode(101);
          upgraded.processStage('ResponseStarted');
        }
      })().catch(fail);
    },
    close() {
      for (const end of [...watches]) end();
      if (ownAdmission) admission.stop();
    },
  };
}

/** Items per read of an unpaginated JSON list (about 1.5 MB of pods): small enough to die young. */
const LIST_BATCH = 500;

/**
 * A protobuf watch frame. An object that does not fit its message (a server bug) becomes an ERROR
 * event, as the stream cannot change format midway.
 */
function protobufFrame(type: string, object: Record<string, unknown>): Uint8Array {
  try {
    const frame = encodeWatchFrame(type, object);
    if (frame) return frame;
  } catch (err) {
    if (!(err instanceof ProtoEncodeError)) throw err;
  }
  const status = new StatusError(500, 'InternalError', `unable to encode ${String(object.kind)} as protobuf`).toStatus();
  return encodeWatchFrame('ERROR', status as unknown as Record<string, unknown>)!;
}

/** Watch event lines for shared (decoded-once) objects, serialised once for every watcher. */
const serialized = new WeakMap<object, Map<string, string>>();
function serializeShared(type: string, object: object): string {
  let m = serialized.get(object);
  if (!m) serialized.set(object, (m = new Map()));
  let line = m.get(type);
  if (line === undefined) m.set(type, (line = JSON.stringify({ type, object }) + '\n'));
  return line;
}

function pageNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function tableResource(store: Store): string {
  return store.info.group ? `${store.info.resource}.${store.info.group}` : store.info.resource;
}

export function apiVersionOf(store: Store): string {
  return store.info.group ? `${store.info.group}/${store.info.version}` : store.info.version;
}

const ANONYMOUS: User = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

const NO_AUDIT: RequestAuditConfig = { level: 'None', omitStages: [], omitManagedFields: false };

/** The request's Audit-ID header when the client sent one (kube keeps it), else a new UUID. */
function auditIDOf(req: IncomingMessage): string {
  const sent = req.headers['audit-id'];
  const id = Array.isArray(sent) ? sent[0] : sent;
  return id ? id : randomUUID();
}

/** Kubernetes' authorization attributes of a request (RequestInfo plus the user). */
function authorizationAttributes(user: User, method: string, info: RequestInfo, path: string, query: Query): AuthorizationAttributes {
  if (info.kind !== 'resource') {
    return { user, verb: method.toLowerCase(), isResourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path };
  }
  const a: AuthorizationAttributes = { user, verb: info.verb, isResourceRequest: true, apiGroup: info.group, apiVersion: info.version, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name, path };
  return info.verb === 'list' || info.verb === 'watch' || info.verb === 'deletecollection' ? withSelector(a, query) : a;
}

/**
 * As kube's RequestInfoFactory and AuthorizeWithSelectors: a list or watch of one object by a
 * metadata.name field selector is authorized as a request for that name (the kubelet watches each
 * secret and configmap its pods use this way), and authorizers see the field selector.
 */
function withSelector(a: AuthorizationAttributes, query: Query): AuthorizationAttributes {
  const raw = query.get('fieldSelector');
  if (!raw) return a;
  let sel: FieldSelectorValue;
  try {
    sel = parseFieldSelector(raw);
  } catch {
    return a;
  }
  const name = a.verb === 'deletecollection' ? undefined : sel.requiresExactMatch('metadata.name');
  const validName = name !== undefined && name !== '' && name !== '.' && name !== '..' && !/[/%]/.test(name);
  return { ...a, fieldSelector: sel.requirements, ...(validName && !a.name ? { name } : {}) };
}

/** The rules of kube's AlwaysAllow authorizer: everything, complete. */
const alwaysAllowRules: RuleResolver = {
  rulesFor: () => Promise.resolve({ resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false }),
};

function isDryRun(query: Query): boolean {
  const v = query.getAll('dryRun');
  for (const d of v) if (d !== 'All') throw badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
  return v.length > 0;
}

function checkNamespace(obj: KubeObject, ns: string | undefined): void {
  const bodyNs = obj.metadata?.namespace;
  if (ns && bodyNs && bodyNs !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

async function deleteOptions(req: IncomingMessage, query: Query) {
  const raw = await readBody(req);
  let body: Record<string, unknown> = {};
  if (raw.length) {
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest(`DeleteOptions: couldn't decode the request body: json: cannot unmarshal ${goJsonType(parsed)} into Go value of type v1.DeleteOptions`);
      body = parsed as Record<string, unknown>;
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw badRequest(`DeleteOptions: couldn't decode the request body: ${jsonErrorMessage(raw)}`);
    }
    // The body decodes as DeleteOptions (meta.k8s.io/v1, or v1 as older clients send) and nothing else.
    if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw badRequest(`DeleteOptions: no kind ${JSON.stringify(body.kind)} is registered for version ${JSON.stringify(body.apiVersion ?? '')}`);
    if (body.orphanDependents !== undefined && body.orphanDependents !== null && typeof body.orphanDependents !== 'boolean') {
      throw badRequest('DeleteOptions: json: cannot unmarshal into Go struct field DeleteOptions.orphanDependents of type bool');
    }
  }
  const grace = body.gracePeriodSeconds ?? queryInt64(query, 'gracePeriodSeconds');
  if (grace !== undefined && grace !== null && (typeof grace !== 'number' || !Number.isInteger(grace) || Math.abs(grace) >= 2 ** 63)) {
    throw badRequest(`DeleteOptions: json: cannot unmarshal ${typeof grace === 'number' ? `number ${grace}` : typeof grace} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`);
  }
  const policy = body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined;
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(String(policy))) {
    throw new StatusError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const pre = body.preconditions as { uid?: unknown; resourceVersion?: unknown } | null | undefined;
  const preconditions: { uid?: string; resourceVersion?: string } = {};
  if (pre !== undefined && pre !== null) {
    if (typeof pre !== 'object' || Array.isArray(pre)) throw badRequest('DeleteOptions: json: cannot unmarshal into Go struct field DeleteOptions.preconditions of type v1.Preconditions');
    for (const k of ['uid', 'resourceVersion'] as const) {
      const v = pre[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw badRequest(`DeleteOptions: json: cannot unmarshal ${typeof v} into Go struct field Preconditions.preconditions.${k} of type string`);
      preconditions[k] = v;
    }
  }
  const bodyDry = body.dryRun ?? [];
  if (!Array.isArray(bodyDry)) throw badRequest('DeleteOptions: json: cannot unmarshal into Go struct field DeleteOptions.dryRun of type []string');
  for (const d of bodyDry) if (d !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(d)}: supported values: "All"`);
  const dry = isDryRun(query) || bodyDry.length > 0;
  // The deprecated orphanDependents is the Orphan (true) or Background (false) policy, as the generic store reads it.
  const orphan = (body.orphanDependents ?? queryBool(query, 'orphanDependents')) as boolean | null | undefined;
  if (orphan !== undefined && orphan !== null && policy !== undefined && policy !== null) {
    throw new StatusError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "${String(policy)}": orphanDependents and deletionPropagation cannot be both set`);
  }
  const effectivePolicy = orphan === true ? 'Orphan' : orphan === false ? 'Background' : policy;
  return {
    gracePeriodSeconds: (grace ?? undefined) as number | undefined,
    propagationPolicy: effectivePolicy === null ? undefined : (effectivePolicy as string | undefined),
    preconditions,
    dryRun: dry,
  };
}

export type { Status };

/** RFC 7234 Warning values (code 299, agent "-"), as kube-apiserver sends them. */
function warningHeader(warnings: readonly string[]): string {
  return warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
}
