// `tinykube server`: the control plane (API server on its store) plus the components that run beside
// it — the scheduler and the controllers — each a client of the API server over its HTTP API with its
// own identity, as in Kubernetes, even inside one process (the scheduler over HTTPS with its client
// certificate, the controllers with tokens over the control plane's loopback connections).

import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
import { startScheduler, type Scheduler } from '../scheduler/scheduler.ts';
import { startControllers, type ControllerOptions, type Controllers } from '../controllers/manager.ts';
import { ApiClient } from '../client/client.ts';
import { issueClientCert } from '../apiserver/auth/pki.ts';
import { realClock } from '../util/clock.ts';
import { runElected, type Elected, type LeaderElectionSettings } from './leader.ts';

export interface ServerOptions extends ControlPlaneOptions {
  /** Run the scheduler in this process (default true). */
  scheduler?: boolean;
  /** Run the controllers (node lifecycle, garbage collector, pod GC) in this process (default true). */
  controllers?: boolean;
  /** Controller settings (tests use short node-monitor grace periods). */
  controllerOptions?: ControllerOptions;
  onStep?: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  /**
   * The scheduler and the controllers run only while this server holds their Leases
   * (kube-system/kube-scheduler, kube-system/kube-controller-manager), so that of several servers on
   * one store one of each acts. Default on, as kube's --leader-elect; false runs them unconditionally.
   */
  leaderElection?: LeaderElectionSettings | false;
}

export interface Server {
  controlPlane: ControlPlane;
  /** The scheduler and controllers running in this process (undefined while another server leads). */
  readonly scheduler?: Scheduler;
  readonly controllers?: Controllers;
  /** Their elections, with leader election on. */
  elections: { scheduler?: Elected<Scheduler>; controllers?: Elected<Controllers> };
  /** The scheduler's client certificate now (it is renewed while the server runs). */
  schedulerCertPem(): string | undefined;
  close(): Promise<void>;
}

/** The user kube-controller-manager runs as (kube's bootstrap policy binds its role to it). */
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';

const plain = <T>(_title: string, fn: () => Promise<T>) => fn();

export async function startServer(opts: ServerOptions): Promise<Server> {
  const step = opts.onStep ?? plain;
  const cp = await step('control plane (API server on SQLite)', () => startControlPlane(opts));
  const elect = opts.leaderElection === false ? undefined : (opts.leaderElection ?? {});
  // A candidate whose server is gone fails every retry period with the same error: said once per change.
  const onError = (component: string) => {
    let last = '';
    return (e: unknown) => {
      const m = e instanceof Error ? e.message : String(e);
      if (m !== last) console.error(`tinykube ${component}: leader election: ${m}`);
      last = m;
    };
  };
  // Without election a component is one that is always "elected".
  const run = async <T extends { stop(): Promise<void> }>(lease: string, client: ApiClient, start: () => Promise<T>): Promise<Elected<T>> => {
    if (elect) return runElected({ client, lease, settings: elect, start, onError: onError(lease) });
    let c: T | undefined = await start();
    return { current: () => c, stop: async () => { await c?.stop(); c = undefined; } };
  };
  let scheduler: Elected<Scheduler> | undefined;
  let controllers: Elected<Controllers> | undefined;
  let schedulerIdentity: (() => string) | undefined;
  // In-process clients open their connections to this very thread: over TLS, each new one is a
  // handshake on both ends of the same event loop. A burst (50 bindings at once) opening 50 of them
  // cost ~250 ms before the first binding answered; 16 kept-alive sockets carry thousands of requests
  // a second without that. The controllers, whose watches hold ~90 connections (the garbage collector
  // watches every kind the server serves), use the control plane's loopback connections instead: no
  // TLS at all (~0.25 s of this thread's CPU at the start of `up --nodes 3`), still authenticated by
  // their tokens.
  try {
    if (opts.controllers !== false) {
      // The root client: shared informers, the Lease, and the controllers' accounts and tokens; each
      // controller writes as its own kube-system service account (useServiceAccountCredentials). It is
      // user system:kube-controller-manager, with what kube's bootstrap policy grants that user (the
      // system:kube-controller-manager ClusterRole and the kube-system leader-locking Role).
      const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.componentToken(CONTROLLER_MANAGER_USER), userAgent: 'tinykube-controller-manager' }, cp.loopbackTransport());
      controllers = await step('controllers', () => run('kube-controller-manager', client, async () => startControllers({ client, clock: opts.clock, options: { rootCA: cp.pki.caCertPem, signingCA: { certPem: cp.pki.caCertPem, keyPem: cp.pki.caKeyPem }, legacyTokenSigner: (ns, sa, secret) => cp.serviceAccountTokens.issueLegacy(ns, sa, secret), useServiceAccountCredentials: true, ...opts.controllerOptions } })));
    }
    if (opts.scheduler !== false) {
      // The scheduler runs as kube-scheduler does, as user system:kube-scheduler with only what the
      // system:kube-scheduler and system:volume-scheduler roles grant (its own client certificate).
      // Issued in memory for a year on the certificate clock and renewed by the certificate rotator's
      // checks when 90 days are left, as the leaves under pki/ are: new connections present the new one.
      const certClock = opts.certificateClock ?? realClock;
      let identity = await issueClientCert(cp.pki, 'system:kube-scheduler', [], { now: certClock.now() });
      const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: identity.certPem, keyPem: identity.keyPem, userAgent: 'tinykube-scheduler', maxSockets: 16 });
      schedulerIdentity = () => identity.certPem;
      cp.certificates.track({
        name: 'kube-scheduler client',
        certPem: () => identity.certPem,
        async renew(now) {
          identity = await issueClientCert(cp.pki, 'system:kube-scheduler', [], { now });
          client.setClientCertificate(identity.certPem, identity.keyPem);
          console.error('tinykube: renewed certificates: kube-scheduler client');
        },
      });
      scheduler = await step('scheduler', () =>
        run('kube-scheduler', client, async () => {
          const s = startScheduler({ client, onError: (e) => console.error(`tinykube scheduler: ${(e as Error).message}`) });
          try {
            await s.waitForSync();
          } catch (err) {
            await s.stop();
            throw err;
          }
          return s;
        }),
      );
    }
  } catch (err) {
    await controllers?.stop();
    await cp.close();
    throw err;
  }
  return {
    controlPlane: cp,
    get scheduler() {
      return scheduler?.current();
    },
    get controllers() {
      return controllers?.current();
    },
    elections: elect ? { scheduler, controllers } : {},
    schedulerCertPem: () => schedulerIdentity?.(),
    async close() {
      // Each component stops before its lease is released, and both before the API server goes.
      await scheduler?.stop();
      await controllers?.stop();
      await cp.close();
    },
  };
}
