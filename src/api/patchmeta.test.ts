import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patchMeta } from './patchmeta.ts';

// The patchStrategy / patchMergeKey struct tags of Kubernetes' types (k8s.io/api core/v1 types.go,
// k8s.io/apimachinery ObjectMeta), for the lists of the kinds tinykube serves: Pod, Node, Namespace,
// Event, ConfigMap, Secret, ServiceAccount, Lease, PriorityClass. undefined: no tag, the list is
// replaced by a strategic merge patch.
describe('strategic merge patch metadata matches Kubernetes types.go', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['ObjectMeta.ownerReferences', 'merge', 'uid'],
    ['ObjectMeta.finalizers', 'merge', ''],
    ['ObjectMeta.managedFields', undefined, undefined],
    ['PodSpec.volumes', 'merge,retainKeys', 'name'],
    ['PodSpec.initContainers', 'merge', 'name'],
    ['PodSpec.containers', 'merge', 'name'],
    ['PodSpec.ephemeralContainers', 'merge', 'name'],
    ['PodSpec.imagePullSecrets', 'merge', 'name'],
    ['PodSpec.hostAliases', 'merge', 'ip'],
    ['PodSpec.topologySpreadConstraints', 'merge', 'topologyKey'],
    ['PodSpec.schedulingGates', 'merge', 'name'],
    ['PodSpec.resourceClaims', 'merge,retainKeys', 'name'],
    ['PodSpec.tolerations', undefined, undefined],
    ['PodSpec.readinessGates', undefined, undefined],
    ['Container.ports', 'merge', 'containerPort'],
    ['Container.env', 'merge', 'name'],
    ['Container.volumeMounts', 'merge', 'mountPath'],
    ['Container.volumeDevices', 'merge', 'devicePath'],
    ['Container.envFrom', undefined, undefined],
    ['Container.resizePolicy', undefined, undefined],
    ['EphemeralContainer.ports', 'merge', 'containerPort'],
    ['EphemeralContainer.env', 'merge', 'name'],
    ['EphemeralContainer.volumeMounts', 'merge', 'mountPath'],
    ['EphemeralContainer.volumeDevices', 'merge', 'devicePath'],
    ['ContainerStatus.volumeMounts', 'merge', 'mountPath'],
    ['ContainerStatus.allocatedResourcesStatus', 'merge', 'name'],
    ['PodStatus.conditions', 'merge', 'type'],
    ['PodStatus.hostIPs', 'merge', 'ip'],
    ['PodStatus.podIPs', 'merge', 'ip'],
    ['PodStatus.resourceClaimStatuses', 'merge,retainKeys', 'name'],
    ['PodStatus.nodeAllocatableResourceClaimStatuses', 'merge', 'resourceClaimName'],
    ['PodStatus.containerStatuses', undefined, undefined],
    ['PodStatus.initContainerStatuses', undefined, undefined],
    ['PodStatus.ephemeralContainerStatuses', undefined, undefined],
    ['NodeSpec.podCIDRs', 'merge', ''],
    ['NodeSpec.taints', undefined, undefined],
    ['NodeStatus.conditions', 'merge', 'type'],
    ['NodeStatus.addresses', 'merge', 'type'],
    ['NodeStatus.images', undefined, undefined],
    ['NodeStatus.volumesAttached', undefined, undefined],
    ['NamespaceSpec.finalizers', undefined, undefined],
    ['NamespaceStatus.conditions', 'merge', 'type'],
    ['ServiceAccount.secrets', 'merge', 'name'],
    ['ServiceAccount.imagePullSecrets', undefined, undefined],
  ];
  for (const [field, strategy, mergeKey] of cases) {
    it(`${field}: ${strategy ?? 'replace'}${mergeKey ? ` by ${mergeKey}` : ''}`, () => {
      const m = patchMeta[field];
      assert.equal(m?.strategy, strategy);
      assert.equal(m?.mergeKey, mergeKey);
    });
  }
});
