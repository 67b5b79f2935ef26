// Pod and container security contexts: ids, sysctls, seccomp and AppArmor profiles, procMount.

import { duplicate, FieldPath, invalid, notSupported, required, type FieldError } from '../../field.ts';
import type { PodSecurityContext, PodSpec, SecurityContext } from '../../types.ts';
import { isValidGroupID, isValidUserID } from '../names.ts';
import { rec, arr, list, validateLocalDescendingPath, type AnyRecord } from './helpers.ts';

function validateSeccompProfileField(sp: AnyRecord | undefined, path: FieldPath): FieldError[] {
  if (!sp) return [];
  const errs: FieldError[] = [];
  const t = sp.type;
  if (t === undefined || t === '') errs.push(required(path.child('type'), 'type is required when seccompProfile is set'));
  else if (t !== 'Localhost' && t !== 'RuntimeDefault' && t !== 'Unconfined') errs.push(notSupported(path.child('type'), t, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (t === 'Localhost') {
    if (typeof sp.localhostProfile !== 'string') errs.push(required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(sp.localhostProfile, path.child('localhostProfile')));
  } else if (sp.localhostProfile !== undefined && sp.localhostProfile !== null) {
    errs.push(invalid(path.child('localhostProfile'), sp, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfileField(ap: AnyRecord | undefined, path: FieldPath): FieldError[] {
  if (!ap) return [];
  const errs: FieldError[] = [];
  switch (ap.type) {
    case 'Localhost': {
      const lp = ap.localhostProfile;
      if (typeof lp !== 'string') errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      else if (lp.trim() !== lp) errs.push(invalid(path.child('localhostProfile'), lp, 'must not be padded with whitespace'));
      else if (lp === '') errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      break;
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      if (ap.localhostProfile !== undefined && ap.localhostProfile !== null) {
        errs.push(invalid(path.child('localhostProfile'), ap.localhostProfile, 'can only be set when AppArmor type is Localhost'));
      }
      break;
    case undefined:
    case '':
      errs.push(required(path.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(notSupported(path.child('type'), ap.type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  return errs;
}

const sysctlRe = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;

export function validatePodSecurityContext(sc: PodSecurityContext | undefined, spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!sc) return errs;
  const s = sc as PodSecurityContext & AnyRecord;
  if (typeof s.fsGroup === 'number') for (const m of isValidGroupID(s.fsGroup)) errs.push(invalid(path.child('fsGroup'), s.fsGroup, m));
  if (typeof s.runAsUser === 'number') for (const m of isValidUserID(s.runAsUser)) errs.push(invalid(path.child('runAsUser'), s.runAsUser, m));
  if (typeof s.runAsGroup === 'number') for (const m of isValidGroupID(s.runAsGroup)) errs.push(invalid(path.child('runAsGroup'), s.runAsGroup, m));
  list(s.supplementalGroups).forEach((g, i) => {
    for (const m of isValidGroupID(g)) errs.push(invalid(path.child('supplementalGroups').index(i), g, m));
  });
  // In the internal API shareProcessNamespace lives in the security context; so does the error path.
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    errs.push(invalid(path.child('shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const names = new Set<string>();
  arr(s.sysctls).forEach((sy, i) => {
    const p = path.child('sysctls').index(i).child('name');
    const name = sy?.name ?? '';
    if (!name) errs.push(required(p));
    else if (name.length > 253 || !sysctlRe.test(name)) errs.push(invalid(p, name, `must have at most 253 characters and match regex ${sysctlRe.source}`));
    else if (names.has(name)) errs.push(duplicate(p, name));
    const netNs = name.startsWith('net.');
    const ipcNs = name === 'kernel.sem' || name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('fs.mqueue.');
    if (spec.hostNetwork && netNs) errs.push(invalid(p, name, "may not be specified when 'hostNetwork' is true"));
    else if (spec.hostIPC && ipcNs) errs.push(invalid(p, name, "may not be specified when 'hostIPC' is true"));
    names.add(name);
  });
  if (s.fsGroupChangePolicy !== undefined && s.fsGroupChangePolicy !== null && s.fsGroupChangePolicy !== 'Always' && s.fsGroupChangePolicy !== 'OnRootMismatch') {
    errs.push(notSupported(path.child('fsGroupChangePolicy'), s.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfileField(s.seccompProfile as AnyRecord | undefined, path.child('seccompProfile')));
  errs.push(...validateAppArmorProfileField(s.appArmorProfile as AnyRecord | undefined, path.child('appArmorProfile')));
  if (s.supplementalGroupsPolicy !== undefined && s.supplementalGroupsPolicy !== 'Merge' && s.supplementalGroupsPolicy !== 'Strict') {
    errs.push(notSupported(path.child('supplementalGroupsPolicy'), s.supplementalGroupsPolicy, ['Merge', 'Strict']));
  }
  return errs;
}

export function validateSecurityContext(sc: SecurityContext | undefined, path: FieldPath, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!sc || typeof sc !== 'object') return errs;
  // Privileged containers are allowed: tinykube runs as the apiserver's --allow-privileged=true.
  if (typeof sc.runAsUser === 'number') for (const m of isValidUserID(sc.runAsUser)) errs.push(invalid(path.child('runAsUser'), sc.runAsUser, m));
  if (typeof sc.runAsGroup === 'number') for (const m of isValidGroupID(sc.runAsGroup)) errs.push(invalid(path.child('runAsGroup'), sc.runAsGroup, m));
  if (sc.procMount !== undefined && sc.procMount !== null) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') errs.push(notSupported(path.child('procMount'), sc.procMount, ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked') errs.push(invalid(path.child('procMount'), sc.procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfileField(sc.seccompProfile as AnyRecord | undefined, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    for (const cap of list(sc.capabilities?.add)) {
      if (cap === 'CAP_SYS_ADMIN') errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  errs.push(...validateAppArmorProfileField(rec(sc).appArmorProfile as AnyRecord | undefined, path.child('appArmorProfile')));
  return errs;
}
