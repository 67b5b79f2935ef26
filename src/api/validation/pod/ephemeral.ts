// The pods/ephemeralcontainers subresource's update rules (ValidatePodEphemeralContainersUpdate in
// pkg/apis/core/validation): the whole pod validates as on any update, and ephemeral containers may
// only be added: an existing one may be neither removed nor changed. kubectl debug PATCHes this
// subresource; the strategy (src/registry/core/pods/ephemeral.ts) has already put everything else
// back from the stored pod, so only spec.ephemeralContainers differs here.
//
// Callers: the pod kind's ephemeralcontainers strategy, once per write; pure.
import { FieldPath, forbiddenField, type FieldError } from '../../field.ts';
import { diffPaths, semanticDeepEqual } from '../../equality.ts';
import type { EphemeralContainer, Pod } from '../../types.ts';
import { validateObjectMetaUpdate } from '../meta.ts';
import { MIRROR_POD_ANNOTATION, validatePodMetadataAndSpec, validatePodSpecificAnnotationUpdates } from './metadata.ts';
import { arr } from './helpers.ts';

export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodMetadataAndSpec(pod));
  errs.push(...validatePodSpecificAnnotationUpdates(pod, old));
  // Static pods cannot take ephemeral containers (kubernetes#113935): the only error reported.
  if (old.metadata?.annotations && Object.hasOwn(old.metadata.annotations, MIRROR_POD_ANNOTATION)) {
    return [forbiddenField(new FieldPath(''), 'static pods do not support ephemeral containers')];
  }
  // A patch does not keep the list's order: each old container is looked up by name.
  const path = new FieldPath('spec').child('ephemeralContainers');
  const byName = new Map<string, EphemeralContainer>(arr(pod.spec?.ephemeralContainers).map((c) => [c.name, c]));
  for (const was of arr(old.spec?.ephemeralContainers)) {
    const now = byName.get(was.name);
    if (!now) errs.push(forbiddenField(path, `existing ephemeral containers ${JSON.stringify(was.name)} may not be removed\n`));
    else if (!semanticDeepEqual(was, now)) errs.push(forbiddenField(path, `existing ephemeral containers ${JSON.stringify(was.name)} may not be changed\n${changes(was, now)}`));
  }
  return errs;
}

// Kubernetes appends a go-cmp diff; the changed fields, one a line, say the same.
function changes(was: EphemeralContainer, now: EphemeralContainer): string {
  const show = (v: unknown): string => (v === undefined ? '<unset>' : JSON.stringify(v));
  return diffPaths(was, now, '').map((c) => `  ${c.path}: ${show(c.from)} -> ${show(c.to)}`).join('\n');
}
