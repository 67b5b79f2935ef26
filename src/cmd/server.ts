// `tinykube server`: the control plane (API server on its store) plus the components that run beside
// it — the scheduler, and the controllers as they land — each a client of the API server over HTTPS,
// as in Kubernetes, even inside one process.

import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
import { startScheduler, type Scheduler } from '../scheduler/scheduler.ts';
import { startControllers, type ControllerOptions, type Controllers } from '../controllers/manager.ts';
import { ApiClient } from '../client/client.ts';
import { issueClientCert } from '../apiserver/auth/pki.ts';

export interface ServerOptions extends ControlPlaneOptions {
  /** Run the scheduler in this process (default true). */
  scheduler?: boolean;
  /** Run the controllers (node lifecycle, garbage collector, pod GC) in this process (default true). */
  controllers?: boolean;
  /** Controller settings (tests use short node-monitor grace periods). */
  controllerOptions?: ControllerOptions;
  onStep?: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
}

export interface Server {
  controlPlane: ControlPlane;
  scheduler?: Scheduler;
  controllers?: Controllers;
  close(): Promise<void>;
}

const plain = <T>(_title: string, fn: () => Promise<T>) => fn();

export async function startServer(opts: ServerOptions): Promise<Server> {
  const step = opts.onStep ?? plain;
  const cp = await step('control plane (API server on SQLite)', () => startControlPlane(opts));
  let scheduler: Scheduler | undefined;
  let controllers: Controllers | undefined;
  // In-process clients open their connections to this very thread: each new one is a TLS handshake
  // on both ends of the same event loop. A burst (50 bindings at once) opening 50 of them cost
  // ~250 ms before the first binding answered; 16 kept-alive sockets carry thousands of requests a
  // second without that.
  // Each watch holds a socket for good, and the controllers watch many kinds (the garbage collector
  // every one the server serves): their client gets room for those beside its 16 for requests.
  const clientFor = (userAgent: string, watches = 0) => new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, token: cp.pki.adminToken, userAgent, maxSockets: 16 + watches });
  try {
    if (opts.controllers !== false) {
      controllers = await step('controllers', async () => startControllers({ client: clientFor('tinykube-controller-manager', 64), clock: opts.clock, options: { rootCA: cp.pki.caCertPem, legacyTokenSigner: (ns, sa, secret) => cp.serviceAccountTokens.issueLegacy(ns, sa, secret), ...opts.controllerOptions } }));
    }
    if (opts.scheduler !== false) {
      // The scheduler runs as kube-scheduler does, as user system:kube-scheduler with only what the
      // system:kube-scheduler and system:volume-scheduler roles grant (its own client certificate).
      const identity = await issueClientCert(cp.pki, 'system:kube-scheduler');
      const client = new ApiClient({ server: cp.url, caPem: cp.pki.caCertPem, certPem: identity.certPem, keyPem: identity.keyPem, userAgent: 'tinykube-scheduler', maxSockets: 16 });
      scheduler = await step('scheduler', async () => {
        const s = startScheduler({ client, onError: (e) => console.error(`tinykube scheduler: ${(e as Error).message}`) });
        await s.waitForSync();
        return s;
      });
    }
  } catch (err) {
    await controllers?.stop();
    await cp.close();
    throw err;
  }
  return {
    controlPlane: cp,
    scheduler,
    controllers,
    async close() {
      await scheduler?.stop();
      await controllers?.stop();
      await cp.close();
    },
  };
}
