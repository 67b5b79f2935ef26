// ServiceAccount: a new pod without a service account runs as `default`; the one it names must
// exist; a pod without imagePullSecrets gets its service account's (kube-apiserver's plugin).
//
// One difference, chosen: a missing `default` service account is accepted. The serviceaccount
// controller makes it as soon as a namespace appears, and refusing the first pod of a namespace
// created a moment before is a race Kubernetes users only ever retry.
// Token projection (MountServiceAccountToken) comes with service-account tokens.

import type { Pod, ServiceAccount } from '../../api/types.ts';
import { DEFAULT_SERVICE_ACCOUNT_NAME } from '../../api/defaults/pod.ts';
import type { KubeObject } from '../../api/types.ts';
import type { Registry } from '../../registry/registry.ts';
import { forbidden } from '../../util/status.ts';
import { WatchedCache } from './cache.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './types.ts';

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';
  readonly #accounts: WatchedCache<ServiceAccount>;

  constructor(registry: Registry) {
    this.#accounts = new WatchedCache<ServiceAccount>(registry.store('serviceaccounts'));
  }

  start(): Promise<void> {
    return this.#accounts.start();
  }

  stop(): void {
    this.#accounts.stop();
  }

  async admit(a: AdmissionAttributes, obj: KubeObject): Promise<void> {
    if (a.operation !== 'CREATE' || a.subresource || a.resource.group !== '' || a.resource.resource !== 'pods') return;
    const pod = obj as Pod;
    const spec = pod.spec;
    if (!spec || typeof spec !== 'object') return;
    // Mirror pods (static pods a kubelet reports) keep what they have.
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
    spec.serviceAccountName ||= DEFAULT_SERVICE_ACCOUNT_NAME;
    spec.serviceAccount = spec.serviceAccountName;
    const name = spec.serviceAccountName;
    const sa = await this.#accounts.get(a.namespace, name);
    if (!sa) {
      if (name === DEFAULT_SERVICE_ACCOUNT_NAME) return;
      throw forbidden('pods', a.name, `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`);
    }
    if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
      spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
    }
  }
}
