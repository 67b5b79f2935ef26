// ServiceAccount: a new pod without a service account runs as `default`; the one it names must
// exist; a pod without imagePullSecrets gets its service account's (kube-apiserver's plugin).
//
// One difference, chosen: a missing `default` service account is accepted. The serviceaccount
// controller makes it as soon as a namespace appears, and refusing the first pod of a namespace
// created a moment before is a race Kubernetes users only ever retry.
//
// MountServiceAccountToken: unless the pod or its account says automountServiceAccountToken: false,
// every container and init container gets the `kube-api-access-<random>` projected volume (a
// TokenRequest token bound to the pod, the cluster CA from kube-root-ca.crt, the namespace) at
// /var/run/secrets/kubernetes.io/serviceaccount, as kube-apiserver's plugin adds it.

import { randomBytes } from 'node:crypto';
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
    if (!sa && name !== DEFAULT_SERVICE_ACCOUNT_NAME) {
      throw forbidden('pods', a.name, `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`);
    }
    if (spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true) mountServiceAccountToken(spec);
    if (sa && !spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
      spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name }));
    }
  }
}

export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet asks for this lifetime; the API server extends such tokens (WarnOnlyBoundTokenExpirationSeconds). */
const TOKEN_EXPIRATION_SECONDS = 3607;
// apimachinery's utilrand alphabet: no vowels (no words), no look-alike digits.
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Adds the token volume and its mounts where a container does not mount something there already. */
function mountServiceAccountToken(spec: NonNullable<Pod['spec']>): void {
  // Admission sees the body before validation: a malformed one is left for validation to refuse.
  const lists = [spec.volumes, spec.initContainers, spec.containers];
  if (lists.some((l) => l !== undefined && !Array.isArray(l))) return;
  const volumes = spec.volumes ?? [];
  const names = volumes.map((v: unknown) => (isRecord(v) && typeof v.name === 'string' ? v.name : ''));
  let volumeName = names.find((n) => n.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const hasVolume = volumeName !== undefined;
  if (!volumeName) {
    do volumeName = SERVICE_ACCOUNT_VOLUME_PREFIX + randomName(5);
    while (names.includes(volumeName));
  }
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as unknown[]) {
    if (!isRecord(c) || (c.volumeMounts !== undefined && !Array.isArray(c.volumeMounts))) continue;
    const mounts = (c.volumeMounts ?? []) as unknown[];
    if (mounts.some((m) => isRecord(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needed = true;
  }
  if (hasVolume || !needed) return;
  spec.volumes = [
    ...volumes,
    {
      name: volumeName,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
        defaultMode: 0o644,
      },
    },
  ];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function randomName(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return out;
}
