// Composition of the control plane: storage, registry, HTTPS API server. `tinykube server` and
// `tinykube up` both start it; tests start it in-process on port 0.

import { randomBytes } from 'node:crypto';
import { Agent as HttpsAgent, createServer, type Server } from 'node:https';
import { createServer as createPlainServer, type Server as PlainServer } from 'node:http';
import { connect as connectSocket, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { apiServingHosts, caExpiryWarning, ensurePki, type Pki } from '../apiserver/auth/pki.ts';
import { CertificateRotator } from '../apiserver/auth/rotation.ts';
import { createConnectHandler } from '../apiserver/connect/index.ts';
import { createAuthenticator, createSecureServerOptions, isAnonymousPath, TokenAuthenticators } from '../apiserver/auth/authn.ts';
import { ServiceAccountTokens } from '../apiserver/auth/serviceaccount/tokens.ts';
import { serverUrl, writeAdminKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { createApiServer, type ApiServer } from '../apiserver/server.ts';
import type { PreboundListener } from '../apiserver/prebound.ts';
import { defaultAdvertiseAddress, parseListen } from './listen.ts';
import { unionAuthorizer, type Authorizer, type RuleResolver } from '../apiserver/auth/authorizer.ts';
import { privilegedGroups, RBACAuthorizer } from '../apiserver/auth/rbac/authorizer.ts';
import { ensureBootstrapPolicy } from '../apiserver/auth/rbac/bootstrap.ts';
import { createNodeAuthorizer } from '../apiserver/auth/node/authorizer.ts';
import { prepareOpenAPI } from '../apiserver/openapi/handler.ts';
import { Registry } from '../registry/registry.ts';
import { CustomResourceDefinitionController } from '../apiserver/apiextensions/controller.ts';
import type { Backend } from '../storage/backend.ts';
import { openBackend } from '../storage/registry.ts';
import { startCompactor } from '../storage/compactor.ts';
import { EventTTL } from '../registry/event-ttl.ts';
import { realClock, type Clock } from '../util/clock.ts';
import { LeaseEndpointReconciler } from '../apiserver/endpointreconciler.ts';
import { DEFAULT_SERVICE_RANGES, type ServiceRanges } from '../api/network.ts';
import type { Service } from '../api/types.ts';
import { ServiceClaimRepair } from '../registry/core/services/repair.ts';
import { ensureBootstrapServices, KubernetesServiceReconciler } from '../registry/core/services/bootstrap.ts';
import { ensureLocalPathStorageClass } from '../registry/storage/storageclasses/bootstrap.ts';
import type { InFlightLimits } from '../apiserver/maxinflight.ts';
import { openAudit, type AuditFlags } from '../apiserver/audit/setup.ts';
import { loadAdmissionConfig } from '../apiserver/admission/config.ts';
import { readKubeconfigFile } from '../client/kubeconfig.ts';
import type { Transport } from '../client/client.ts';

export interface ControlPlaneOptions {
  dataDir: string;
  /** host:port; port 0 picks a free one. */
  listen?: string;
  /** Storage spec: "sqlite:PATH" (default "sqlite:<dataDir>/state.db"). */
  store?: string;
  /** An opened store used instead of `store` (the managed etcd member's); closed by close(). */
  backend?: Backend;
  /**
   * Requests outside the Kubernetes API answered before it (the managed etcd's server join); returns
   * false for a request it does not serve.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  clock?: Clock;
  /**
   * The clock certificates are issued and renewed by (default: the real one). Separate from `clock`:
   * peers check certificates against their own real clocks, so a test's fake time for leases and
   * tokens must not date them.
   */
  certificateClock?: Clock;
  /** Time between checks of the leaf certificates' expiry (default 1 hour). */
  certificateCheckIntervalMs?: number;
  /** Events are deleted this long after their last write (kube-apiserver's --event-ttl, default 1 h). */
  eventTTLMs?: number;
  /**
   * Who may do what; absent = kube-apiserver's default: system:masters may do everything, everyone
   * else what RBAC grants (`alwaysAllow` for tests that need every caller to be allowed).
   */
  authorizer?: Authorizer;
  /** What a user may do, as rules (SelfSubjectRulesReview); absent with an authorizer = answers are incomplete. */
  ruleResolver?: RuleResolver;
  /**
   * The address the `kubernetes` Service's endpoints give for this server (kube-apiserver's
   * --advertise-address). Default: the listen address when it is a routable IPv4 address, else the
   * host's first one (as kube-apiserver picks its default interface); false writes no endpoints.
   */
  advertiseAddress?: string | false;
  /** Service-account token issuer (kube-apiserver's --service-account-issuer); default https://kubernetes.default.svc.cluster.local. */
  serviceAccountIssuer?: string;
  /** Service ClusterIP and node port ranges (default 10.43.0.0/16 and 30000-32767, as k3s). */
  serviceRanges?: ServiceRanges;
  /**
   * The default `local-path` StorageClass, made at start when missing (k3s' local-storage); false
   * leaves classes to the administrator (`--disable-local-storage`).
   */
  localStorage?: false;
  /** --max-requests-inflight / --max-mutating-requests-inflight (kube's 400 / 200; 0 = no limit). */
  inFlight?: InFlightLimits;
  /** The audit log (--audit-policy-file, --audit-log-path, rotation); a malformed policy fails the start. */
  audit?: AuditFlags;
  /** --admission-control-config-file (an AdmissionConfiguration); a bad file fails the start. */
  admissionControlConfigFile?: string;
  /**
   * Addresses bound beforehand (`tinykube up --nodes` starts its agents before the control plane):
   * `main` serves instead of binding `listen`, `advertised` instead of binding the advertise address
   * (it must be that address, on main's port). Closed with the control plane.
   */
  listeners?: { main: PreboundListener; advertised?: PreboundListener };
  /**
   * Build the OpenAPI documents as soon as the server serves (default true). `up --nodes` says false and
   * builds them once its nodes are Ready: ~0.2 s of CPU the nodes' start would otherwise compete with.
   */
  prepareOpenAPI?: boolean;
}

export interface ControlPlane {
  url: string;
  port: number;
  kubeconfigPath: string;
  nodeTokenPath: string;
  pki: Pki;
  registry: Registry;
  serviceAccountTokens: ServiceAccountTokens;
  /** Renews the leaf certificates before they expire and installs renewed ones without a restart. */
  certificates: CertificateRotator;
  api: ApiServer;
  backend: Backend;
  eventTTL: EventTTL;
  /**
   * A bearer token for a component running in this process (kube-controller-manager), authenticating
   * as `user` in no group but system:authenticated, as that component's own kubeconfig user does in
   * kube. A token rather than a client certificate, so the component's client may lend its connections
   * to the identities it derives (the controllers' service accounts). Memory only, one per user, valid
   * while this server runs.
   */
  componentToken(user: string): string;
  /**
   * Connections for a client in this process (the controllers, `tinykube up` itself): plain HTTP over
   * a socket only this process knows, to the same handler as the HTTPS listeners. Requests are
   * authenticated by their bearer token as on HTTPS; what is saved is a TLS handshake at both ends of
   * this one thread per connection (the controllers' watches hold ~90 of them) and the encryption of
   * every byte. Use with `new ApiClient({ server: url, token }, transport)`.
   */
  loopbackTransport(): Transport;
  close(): Promise<void>;
}

/** kube-apiserver's loopback client, without TLS: plain HTTP over an abstract Unix socket (Linux). */
class Loopback {
  readonly #name = `\0tinykube-apiserver-${process.pid}-${randomBytes(8).toString('hex')}`;
  readonly #server: PlainServer;
  #transport: Transport | undefined;

  constructor(api: ApiServer) {
    this.#server = serveApi(createPlainServer(), api);
  }

  listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#name, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  transport(): Transport {
    if (!this.#transport) {
      const name = this.#name;
      // An https agent (the client's URL stays https://) whose connections are this socket.
      class LoopbackAgent extends HttpsAgent {
        override createConnection(): Socket {
          return connectSocket(name);
        }
      }
      this.#transport = {
        // As many as a client's own pool (ApiClient's default): the controllers' bursts of writes.
        agent: new LoopbackAgent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo' }),
        streamAgent: new LoopbackAgent({ keepAlive: true, scheduling: 'lifo' }),
      };
    }
    return this.#transport;
  }

  close(): Promise<void> {
    this.#transport?.agent.destroy();
    this.#transport?.streamAgent.destroy();
    return closeServer(this.#server);
  }
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const clock = opts.clock ?? realClock;
  // Addresses bound beforehand are what the server listens on (their port is the one actually bound).
  const { host, port } = opts.listeners?.main ?? parseListen(opts.listen ?? '127.0.0.1:6443');
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  // Before anything starts: a malformed policy is a start-up error, as in kube-apiserver.
  const admissionConfig = opts.admissionControlConfigFile ? loadAdmissionConfig(opts.admissionControlConfigFile) : undefined;
  const audit = opts.audit ? openAudit(opts.audit, clock, { readKubeconfig: readKubeconfigFile }) : undefined;
  const certClock = opts.certificateClock ?? realClock;
  const pkiHosts = apiServingHosts(host, opts.serviceRanges?.serviceCidr, opts.advertiseAddress);
  const pki = await ensurePki(opts.dataDir, { hosts: pkiHosts, now: () => certClock.now(), createCa: true });
  const caWarning = caExpiryWarning(pki.caCertPem, certClock.now());
  if (caWarning) console.error(`tinykube: WARNING: ${caWarning}`);
  const backend: Backend = opts.backend ?? (await openBackend(opts.store ?? `sqlite:${path.join(opts.dataDir, 'state.db')}`));
  // Kubernetes compacts every 5 minutes to the revision seen at the previous pass.
  const compactor = startCompactor(backend, { clock, onError: (e) => console.error(`tinykube: compaction: ${(e as Error).message}`) });
  const serviceRanges = opts.serviceRanges ?? DEFAULT_SERVICE_RANGES;
  const registry = new Registry(backend, { clock, serviceRanges });
  await registry.bootstrap();
  // The Service allocators' claims are checked against the stored Services before the first write.
  const services = registry.store('services');
  const serviceRepair = new ServiceClaimRepair(backend, serviceRanges, { clock, listServices: async () => (await services.list({})).items as Service[] });
  await serviceRepair.start();
  // Custom resources of established CRDs are served from the first request on.
  const crds = new CustomResourceDefinitionController(registry, { clock });
  await crds.start();
  // Started in the background: reading the events of a large database (150,000 of them take about a
  // second) must not delay start-up; the watch begins at the list's revision, so no write is missed.
  const eventTTL = new EventTTL(registry.store('events'), clock, { ttlMs: opts.eventTTLMs });
  void eventTTL.start().catch((err: unknown) => console.error(`tinykube: event expiry did not start: ${err instanceof Error ? err.message : String(err)}`));
  // The default roles exist before the first request is authorized (the rbac/bootstrap-roles hook).
  const rbacStore = (resource: string) => registry.store(resource, 'rbac.authorization.k8s.io');
  const rbacBoot = await ensureBootstrapPolicy({ clusterRoles: rbacStore('clusterroles'), clusterRoleBindings: rbacStore('clusterrolebindings'), roles: rbacStore('roles'), roleBindings: rbacStore('rolebindings') });
  for (const f of rbacBoot.failed) console.error(`tinykube: could not reconcile RBAC default ${f.name}: ${f.reason}`);
  const rbac = opts.authorizer ? undefined : new RBACAuthorizer(registry);
  await rbac?.start();
  // kube-apiserver's --authorization-mode=Node,RBAC behind the system:masters short cut: node users
  // (system:node:<name>) are decided by the Node authorizer first; its graph fills in the background
  // and node requests wait for it.
  const nodeAuthorizer = createNodeAuthorizer(registry, clock);
  void nodeAuthorizer.start().catch((err: unknown) => console.error(`tinykube: node authorizer did not start: ${err instanceof Error ? err.message : String(err)}`));
  const authorizer = opts.authorizer ? unionAuthorizer(nodeAuthorizer, opts.authorizer) : unionAuthorizer(privilegedGroups('system:masters'), nodeAuthorizer, rbac!);
  const serviceAccountTokens = new ServiceAccountTokens({
    keyPem: pki.serviceAccountKeyPem,
    issuer: opts.serviceAccountIssuer,
    clock,
    objects: { get: (resource, namespace, name) => registry.store(resource).tryGet(namespace, name) },
  });
  // Static tokens are good for the API server's own audiences, which are the issuer's.
  const authn = createAuthenticator(pki, { apiAudiences: serviceAccountTokens.apiAudiences });
  authn.addTokenAuthenticator(serviceAccountTokens);
  // Tokens as TokenReview checks them: the static ones, then service-account JWTs (added here).
  const tokens = new TokenAuthenticators(authn);
  tokens.add(serviceAccountTokens);
  // The API server reaches node agents (logs, exec, attach, port-forward) with its own client certificate.
  const connect = createConnectHandler({ tls: { ca: pki.caCertPem, cert: pki.agentClientCertPem, key: pki.agentClientKeyPem } });
  const api = createApiServer({
    registry,
    clock,
    authenticate: (req) => authn.authenticate(req),
    authorizer,
    ruleResolver: opts.authorizer ? opts.ruleResolver : rbac,
    tokenAuthenticator: tokens,
    apiAudiences: serviceAccountTokens.apiAudiences,
    isAnonymousPath,
    serverAddress: `${host}:${port}`,
    connect,
    serviceAccountTokens,
    inFlight: opts.inFlight,
    audit,
    admissionConfig,
  });
  const server = httpsServer(api, pki, opts.extraRoutes);
  const prebound = opts.listeners;
  if (prebound) prebound.main.serve(server);
  else await listenOn(server, port, host);
  // Build the OpenAPI documents off the request path, so the first `kubectl apply` does not wait for them.
  if (opts.prepareOpenAPI !== false) setImmediate(prepareOpenAPI);
  const actual = prebound ? prebound.main.port : (server.address() as AddressInfo).port;
  // default/kubernetes points at the port actually bound, known only now.
  const boot = await ensureBootstrapServices(services, serviceRanges, actual);
  if (opts.localStorage !== false) await ensureLocalPathStorageClass(registry.store('storageclasses', 'storage.k8s.io'));
  for (const f of boot.failed) console.error(`tinykube: could not create Service ${f.service}: ${f.reason}`);
  const kubernetesService = new KubernetesServiceReconciler(services, serviceRanges, actual, clock);
  kubernetesService.start();
  const clientHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = serverUrl(clientHost, actual);
  const kubeconfigPath = await writeAdminKubeconfig(pki, url);
  const advertise = opts.advertiseAddress === false ? undefined : (opts.advertiseAddress ?? defaultAdvertiseAddress(host));
  serviceAccountTokens.jwksUri = `${advertise ? serverUrl(advertise, actual) : url}/openid/v1/jwks`;
  // Pods reach the API through the kubernetes Service, whose endpoint is the advertise address: a
  // server bound to loopback (tinykube up's default) also listens there, on the same port, as
  // kube-apiserver serves its --advertise-address. A failure leaves the CLI working and says why.
  let advertised: Server | undefined;
  if (prebound?.advertised) {
    if (prebound.advertised.host !== advertise || prebound.advertised.port !== actual) throw new Error(`the advertise listener is ${prebound.advertised.host}:${prebound.advertised.port}, not ${advertise}:${actual}`);
    advertised = httpsServer(api, pki, opts.extraRoutes);
    prebound.advertised.serve(advertised);
  } else if (advertise && advertise !== host && host !== '0.0.0.0' && host !== '::') {
    advertised = httpsServer(api, pki, opts.extraRoutes);
    await listenOn(advertised, actual, advertise).catch((err: unknown) => {
      advertised = undefined;
      console.error(`tinykube: cannot also listen on the advertise address ${advertise}:${actual} (pods will not reach the kubernetes Service): ${err instanceof Error ? err.message : String(err)}`);
    });
  }
  const endpoints = advertise
    ? new LeaseEndpointReconciler(registry, backend, { ip: advertise, port: actual, clock, onError: (e) => console.error(`tinykube: kubernetes service endpoints: ${(e as Error).message}`) })
    : undefined;
  void endpoints?.start();
  // Renewed certificates are installed in place: new TLS handshakes get the new serving certificate
  // while open connections (watches, exec streams) keep theirs; the old admin certificate stays valid
  // until its own expiry, so kubeconfigs copied before the renewal keep working for 90 days.
  const certificates = new CertificateRotator(pki, {
    dataDir: opts.dataDir,
    hosts: pkiHosts,
    clock: certClock,
    intervalMs: opts.certificateCheckIntervalMs,
    async onRenewed(current, renewed) {
      if (renewed.includes('serving')) {
        for (const s of [server, advertised]) s?.setSecureContext(createSecureServerOptions(current));
      }
      if (renewed.includes('agent-client')) connect.setClientCertificate(current.agentClientCertPem, current.agentClientKeyPem);
      if (renewed.includes('admin')) await writeAdminKubeconfig(current, url);
      console.error(`tinykube: renewed certificates: ${renewed.join(', ')}`);
    },
    onError: (err) => console.error(`tinykube: certificate renewal: ${err instanceof Error ? err.message : String(err)}`),
  });
  certificates.start();
  const loopback = new Loopback(api);
  await loopback.listen();
  const componentTokens = new Map<string, string>();
  let closed = false;
  return {
    url,
    port: actual,
    kubeconfigPath,
    nodeTokenPath: pki.paths.nodeToken,
    pki,
    registry,
    serviceAccountTokens,
    certificates,
    api,
    backend,
    eventTTL,
    loopbackTransport: () => loopback.transport(),
    componentToken(user) {
      let token = componentTokens.get(user);
      if (!token) {
        token = randomBytes(32).toString('hex');
        authn.addToken(token, user);
        componentTokens.set(user, token);
      }
      return token;
    },
    async close() {
      if (closed) return;
      closed = true;
      certificates.stop();
      await endpoints?.stop();
      crds.stop();
      nodeAuthorizer.stop();
      serviceRepair.stop();
      kubernetesService.stop();
      eventTTL.stop();
      compactor.stop();
      api.close();
      rbac?.stop();
      await connect.close();
      await Promise.all([loopback.close(), closeServer(server), advertised && closeServer(advertised), prebound?.main.close(), prebound?.advertised?.close()]);
      await backend.close();
      await audit?.sink.close();
    },
  };
}

/** The HTTPS server in front of the API: one per listening address, all handing requests to `api`. */
function httpsServer(api: ApiServer, pki: Pki, extraRoutes?: ControlPlaneOptions['extraRoutes']): Server {
  return serveApi(createServer(createSecureServerOptions(pki)), api, extraRoutes);
}

/** Hands `server`'s requests and upgrades to `api` (after `extraRoutes`), with kube's answers to bad HTTP. */
function serveApi<S extends Server | PlainServer>(server: S, api: ApiServer, extraRoutes?: ControlPlaneOptions['extraRoutes']): S {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!extraRoutes?.(req, res)) api.handle(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => api.upgrade(req, socket, head));
  // Malformed HTTP gets a Status too, not Node's bare 400.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const reason = code === 431 ? 'RequestHeaderFieldsTooLarge' : 'BadRequest';
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `malformed HTTP request: ${err.code ?? err.message}`, reason, code });
    socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  // node:http hands CONNECT to its own event and drops the connection when nobody listens: answer it.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server does not allow this method on the requested resource', reason: 'MethodNotAllowed', code: 405 });
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server | PlainServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
