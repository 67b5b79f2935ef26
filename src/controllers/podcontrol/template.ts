// A pod made from a controller's template (controller.GetPodFromTemplate): the template's labels,
// annotations and finalizers, a generated name after the owner's, the owner's controller reference,
// and a copy of the spec (the template is shared by the cache and must not be changed).

import type { ObjectMeta, Pod, PodTemplateSpec } from '../../api/types.ts';
import { controllerRef, type OwnerIdentity } from './controllerref.ts';

export function podFromTemplate(template: PodTemplateSpec | undefined, owner: OwnerIdentity, namespace: string, extra: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Pod {
  const t = template ?? {};
  const labels = { ...t.metadata?.labels, ...extra.labels };
  const annotations = { ...t.metadata?.annotations, ...extra.annotations };
  const metadata: ObjectMeta = { namespace, ownerReferences: [controllerRef(owner)] };
  if (extra.name) metadata.name = extra.name;
  // Kubernetes caps the prefix so the generated name (prefix + 5 characters) stays a valid name.
  else metadata.generateName = `${owner.name.length > 58 ? owner.name.slice(0, 58) : owner.name}-`;
  if (Object.keys(labels).length) metadata.labels = labels;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (t.metadata?.finalizers?.length) metadata.finalizers = [...t.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(t.spec ?? { containers: [] }) };
}
