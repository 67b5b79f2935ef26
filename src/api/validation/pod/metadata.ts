// A pod's metadata beside its spec: the pod-specific annotations (mirror pod, deletion cost, seccomp and
// AppArmor) and the create-time checks that join metadata and spec (ValidatePodMetadataAndSpec).

import { FieldPath, forbiddenField, invalid, type FieldError } from '../../field.ts';
import type { Container, Pod, PodSpec } from '../../types.ts';
import { nameIsDNSSubdomain } from '../names.ts';
import { validateObjectMeta } from '../meta.ts';
import { validatePodSpec } from './spec.ts';
import { MAX_INT32, specPath, metaPath, arr, str, validateLocalDescendingPath } from './helpers.ts';

export function validatePodMetadataAndSpec(pod: Pod): FieldError[] {
  const spec = pod.spec ?? ({} as PodSpec);
  const errs = validateObjectMeta(pod.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  errs.push(...validatePodSpecificAnnotations(pod.metadata?.annotations, spec, metaPath.child('annotations')));
  errs.push(...validatePodSpec(spec, pod.metadata, specPath, { resourceIsPod: true }));
  if (!spec.serviceAccountName) {
    arr(spec.volumes).forEach((v, vi) => {
      arr(v.projected?.sources).forEach((s, si) => {
        if (s.serviceAccountToken) {
          errs.push(
            forbiddenField(
              specPath.child('volumes').index(vi).child('projected').child('sources').index(si).child('serviceAccountToken'),
              'must not be specified when serviceAccountName is not set',
            ),
          );
        }
      });
    });
  }
  for (const [list, name] of [
    [spec.containers, 'containers'],
    [spec.initContainers, 'initContainers'],
  ] as const) {
    arr(list).forEach((c, i) => {
      const image = typeof c?.image === 'string' ? c.image : '';
      if (image.length !== image.trim().length) errs.push(invalid(specPath.child(name).index(i).child('image'), image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function validateSeccompProfileAnnotation(p: string, path: FieldPath): FieldError[] {
  if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') return [];
  if (p.startsWith('localhost/')) return validateLocalDescendingPath(p.slice('localhost/'.length), path);
  return [invalid(path, p, 'must be a valid seccomp profile')];
}

function allContainers(spec: PodSpec): Container[] {
  return [...arr(spec.initContainers), ...arr(spec.containers), ...(arr(spec.ephemeralContainers) as Container[])];
}

function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const a = annotations ?? {};
  if (Object.hasOwn(a, MIRROR_POD_ANNOTATION) && !spec.nodeName) {
    errs.push(invalid(path.key(MIRROR_POD_ANNOTATION), a[MIRROR_POD_ANNOTATION], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (Object.hasOwn(a, POD_DELETION_COST)) {
    const v = str(a[POD_DELETION_COST]);
    const n = /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n > MAX_INT32 || n < -MAX_INT32 - 1) errs.push(invalid(path.key(POD_DELETION_COST), v, 'must be a 32bit integer'));
  }
  if (Object.hasOwn(a, SECCOMP_POD_ANNOTATION)) errs.push(...validateSeccompProfileAnnotation(str(a[SECCOMP_POD_ANNOTATION]), path.child(SECCOMP_POD_ANNOTATION)));
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith(SECCOMP_CONTAINER_PREFIX)) errs.push(...validateSeccompProfileAnnotation(str(v), path.child(k)));
  }
  for (const [k, raw] of Object.entries(a)) {
    const v = str(raw);
    if (!k.startsWith(APPARMOR_CONTAINER_PREFIX)) continue;
    const name = k.slice(APPARMOR_CONTAINER_PREFIX.length);
    if (!allContainers(spec).some((c) => c?.name === name)) errs.push(invalid(path.key(k), name, 'container not found'));
    if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/')) {
      errs.push(invalid(path.key(k), v, `invalid AppArmor profile name: ${JSON.stringify(v)}`));
    }
  }
  return errs;
}

export function validatePodSpecificAnnotationUpdates(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const path = metaPath.child('annotations');
  const a = pod.metadata?.annotations ?? {};
  const o = old.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(o)) {
    if (Object.hasOwn(a, k) && a[k] === v) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX)) errs.push(forbiddenField(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbiddenField(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(a)) {
    if (Object.hasOwn(o, k)) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX)) errs.push(forbiddenField(path.key(k), 'may not add AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbiddenField(path.key(k), 'may not add mirror pod annotation'));
  }
  errs.push(...validatePodSpecificAnnotations(a, pod.spec ?? ({} as PodSpec), path));
  return errs;
}
