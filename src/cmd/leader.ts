// A component of `tinykube server` (the scheduler, the controller manager) that runs only while this
// server holds its Lease in kube-system, as kube-scheduler and kube-controller-manager do with
// --leader-elect. Where kube exits the process on losing the lease, the component is stopped here
// and the server becomes a candidate again; the elector lets no one else in before stop() returned
// (src/client/leaderelection.ts).

import type { ApiClient } from '../client/client.ts';
import { defaultIdentity, LeaderElector, LeaseLock } from '../client/leaderelection.ts';
import type { Clock } from '../util/clock.ts';

/** --leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period and the identity. */
export interface LeaderElectionSettings {
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Default `<hostname>_<uuid>`, fresh for each component as kube's. */
  identity?: string;
  /** Lease timing clock (default: the real one; the control plane's fake clock is not used here). */
  clock?: Clock;
  /** Acquired and lost leases ("successfully acquired lease kube-system/kube-scheduler"). */
  log?: (message: string) => void;
}

export interface Elected<T> {
  /** Absent when leader election is off. */
  readonly elector?: LeaderElector;
  /** The running component while this server leads. */
  current(): T | undefined;
  /** Stops the component if it runs and releases the lease. */
  stop(): Promise<void>;
}

export async function runElected<T extends { stop(): Promise<void> }>(o: {
  client: ApiClient;
  /** The Lease's name in kube-system: "kube-scheduler", "kube-controller-manager". */
  lease: string;
  settings: LeaderElectionSettings;
  start: () => Promise<T>;
  onError: (err: unknown) => void;
}): Promise<Elected<T>> {
  const describe = `kube-system/${o.lease}`;
  const log = o.settings.log ?? (() => {});
  let current: T | undefined;
  const lock = new LeaseLock(o.client, { namespace: 'kube-system', name: o.lease, identity: o.settings.identity ?? defaultIdentity(), eventComponent: o.lease, clock: o.settings.clock });
  const elector = new LeaderElector({
    lock,
    leaseDurationMs: o.settings.leaseDurationMs,
    renewDeadlineMs: o.settings.renewDeadlineMs,
    retryPeriodMs: o.settings.retryPeriodMs,
    clock: o.settings.clock,
    onError: o.onError,
    callbacks: {
      async onStartedLeading() {
        log(`successfully acquired lease ${describe}`);
        current = await o.start();
      },
      async onStoppedLeading() {
        const c = current;
        current = undefined;
        if (c) log(`stopped leading: lease ${describe}`);
        await c?.stop();
      },
    },
  });
  elector.start();
  // A free lease is taken on the first try, so a lone server has its component running on return.
  await elector.firstTry();
  return {
    elector,
    current: () => current,
    async stop() {
      await elector.stop();
      await lock.flush();
    },
  };
}
