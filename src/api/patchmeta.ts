// Strategic-merge-patch metadata: which list fields merge by which key, and with which strategy.
// These are API facts (x-kubernetes-patch-merge-key / x-kubernetes-patch-strategy in the published
// schemas, from the patchStrategy/patchMergeKey tags of k8s.io/api's types.go). A list not named here
// is replaced by a strategic merge patch. The OpenAPI document and the strategic merge patch both
// read this one table; patchmeta.test.ts lists what was checked against Kubernetes.

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
  'EphemeralContainer.volumeDevices': { mergeKey: 'devicePath', strategy: 'merge' },
  'ContainerStatus.volumeMounts': { mergeKey: 'mountPath', strategy: 'merge' },
  'ContainerStatus.allocatedResourcesStatus': { mergeKey: 'name', strategy: 'merge' },
  'PodStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'PodStatus.hostIPs': { mergeKey: 'ip', strategy: 'merge' },
  'PodStatus.podIPs': { mergeKey: 'ip', strategy: 'merge' },
  'PodStatus.resourceClaimStatuses': { mergeKey: 'name', strategy: 'merge,retainKeys' },
  'PodStatus.nodeAllocatableResourceClaimStatuses': { mergeKey: 'resourceClaimName', strategy: 'merge' },
  'NodeStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'NodeStatus.addresses': { mergeKey: 'type', strategy: 'merge' },
  // NodeSpec.taints has no patch strategy (listType=atomic): a patch replaces the whole list.
  'NodeSpec.podCIDRs': { mergeKey: '', strategy: 'merge' },
  'NamespaceStatus.conditions': { mergeKey: 'type', strategy: 'merge' },
  'ObjectMeta.ownerReferences': { mergeKey: 'uid', strategy: 'merge' },
  'ObjectMeta.finalizers': { mergeKey: '', strategy: 'merge' },
  'ServiceAccount.secrets': { mergeKey: 'name', strategy: 'merge' },
};
