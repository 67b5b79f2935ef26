// NamespaceLifecycle: nothing is created in a namespace that does not exist or is being terminated,
// and the namespaces every cluster needs may not be deleted (kube-apiserver's plugin, with its messages).

import type { Namespace } from '../../api/types.ts';
import type { Registry } from '../../registry/registry.ts';
import { forbidden, notFound } from '../../util/status.ts';
import { WatchedCache } from './cache.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

/**
 * kube-apiserver's immortal namespaces, and kube-node-lease: kube-apiserver lets that one be deleted
 * and its system-namespaces controller makes it again a minute later, during which no node can renew
 * its heartbeat. tinykube refuses it as it refuses the others.
 */
const IMMORTAL = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';
  readonly #namespaces: WatchedCache<Namespace>;

  constructor(registry: Registry) {
    this.#namespaces = new WatchedCache<Namespace>(registry.store('namespaces'));
  }

  start(): Promise<void> {
    return this.#namespaces.start();
  }

  stop(): void {
    this.#namespaces.stop();
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    const r = a.resource;
    if (a.operation === 'DELETE' && r.group === '' && r.resource === 'namespaces' && !a.subresource && IMMORTAL.has(a.name)) {
      throw forbidden('namespaces', a.name, 'this namespace may not be deleted');
    }
    if (a.operation !== 'CREATE' || !r.namespaced || !a.namespace) return;
    const ns = await this.#namespaces.get(undefined, a.namespace);
    if (!ns) throw notFound('namespaces', a.namespace);
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') {
      const resource = r.group ? `${r.resource}.${r.group}` : r.resource;
      throw forbidden(resource, a.name, `unable to create new content in namespace ${a.namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${a.namespace} is terminating`, field: 'metadata.namespace' },
      ]);
    }
  }
}
