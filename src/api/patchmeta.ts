// Strategic-merge-patch metadata: which list fields merge by which key, and with which strategy.
// These are API facts (x-kubernetes-patch-merge-key / x-kubernetes-patch-strategy in the published
// schemas). The OpenAPI document and the strategic merge patch both read this one table.

export interface PatchMeta {
  /** The field in list elements that identifies them. */
  mergeKey: string;
  /** "merge", or "merge,retainKeys" for volumes. */
  strategy: string;
}

/** Keyed by "<schema type>.<field>", the schema type being the client-node model name without its version prefix. */
export const patchMeta: Record<string, PatchMeta> = {
  'PodSpec.containers': { mergeKey: 'name', strategy: 'merge' },
  'PodSpec.initContainers': { mergeKey: 'name', strategy: 'merge' },
  'PodSpec.ephemeralContainers': { mergeKey: 'name', strategy: 'merge' },
  'PodSpec.volumes': { mergeKey: 'name', strategy: 'merge,retainKeys' },
  'PodSpec.imagePullSecrets': { mergeKey: 'name', strategy: 'merge' },
  'PodSpec.hostAliases': { mergeKey: 'ip', strategy: 'merge' },
  'PodSpec.topologySpreadConstraints': { mergeKey: 'topologyKey', strategy: 'merge' },
  'PodSpec.resourceClaims': { mergeKey: 'name', strategy: 'merge,retainKeys' },
  'PodSpec.schedulingGates': { mergeKey: 'name', strategy: 'merge' },
  'Container.env': { mergeKey: 'name', strategy: 'merge' },
  'Container.ports': { mergeKey: 'containerPort', strategy: 'merge' },
  'Container.volumeMounts': { mergeKey: 'mountPath', strategy: 'merge' },
  'Container.volumeDevices': { mergeKey: 'devicePath', strategy: 'merge' },
  'EphemeralContainer.env': { mergeKey: 'name', strategy: 'merge' },
  'EphemeralContainer.ports': { mergeKey: 'containerPort', strategy: 'merge' },
  'EphemeralContainer.volumeMounts': { mergeKey: 'mountPath', strategy: 'merge' },
  'PodStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'PodStatus.podIPs': { mergeKey: 'ip', strategy: 'merge' },
  'NodeStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'NodeStatus.addresses': { mergeKey: 'type', strategy: 'merge' },
  'NodeSpec.taints': { mergeKey: 'key', strategy: 'merge' },
  'NamespaceStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'ObjectMeta.ownerReferences': { mergeKey: 'uid', strategy: 'merge' },
  'ObjectMeta.finalizers': { mergeKey: '', strategy: 'merge' },
  'ServiceAccount.secrets': { mergeKey: 'name', strategy: 'merge' },
};
