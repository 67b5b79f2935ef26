// Containers, init containers and ephemeral containers: names, ports, env, volume mounts and devices;
// resources, probes and security contexts are checked through their own files.

import { duplicate, fieldNotFound, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import { semanticDeepEqual } from '../../equality.ts';
import type { Container, ContainerPort, EnvFromSource, EnvVar, PodSpec, Volume, VolumeMount } from '../../types.ts';
import { isConfigMapKey, isDNS1123Label, isRelaxedEnvVarName, isValidPortName, isValidPortNum, nameIsDNSSubdomain } from '../names.ts';
import { validateObjectFieldSelector, validateResourceFieldSelector } from './volumes.ts';
import { validateResourceRequirements, validateResizePolicy } from './resources.ts';
import { validateProbe, validateLifecycle } from './probes.ts';
import { validateSecurityContext } from './security.ts';
import { rec, isRecord, arr, str, validateLocalDescendingPath, type AnyRecord } from './helpers.ts';

export function validateContainers(
  containers: Container[] | undefined,
  volumes: Map<string, Volume>,
  claims: Set<string>,
  grace: number | undefined,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const list = arr(containers);
  if (list.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!isRecord(c)) {
      errs.push(required(p.child('name')), required(p.child('image')));
      return;
    }
    errs.push(...validateContainerCommon(c, volumes, claims, p, restartPolicy, hostUsers));
    const name = c.name ?? '';
    if (names.has(name)) errs.push(duplicate(p.child('name'), name));
    else names.add(name);
    if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle as AnyRecord, grace, p.child('lifecycle')));
    errs.push(...validateProbe(c.livenessProbe, grace, p.child('livenessProbe'), 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, grace, p.child('readinessProbe'), 'readiness'));
    errs.push(...validateProbe(c.startupProbe, grace, p.child('startupProbe'), 'startup'));
    if (rec(c).restartPolicy !== undefined) errs.push(forbiddenField(p.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

export function validateInitContainers(
  list: Container[],
  regular: Container[],
  volumes: Map<string, Volume>,
  claims: Set<string>,
  grace: number | undefined,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(regular.map((c) => c?.name));
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!isRecord(c)) {
      errs.push(required(p.child('name')), required(p.child('image')));
      return;
    }
    errs.push(...validateContainerCommon(c, volumes, claims, p, restartPolicy, hostUsers));
    const rp = rec(c).restartPolicy;
    let restartAlways = false;
    if (rp !== undefined && rp !== null) {
      if (rp !== 'Always') errs.push(notSupported(p.child('restartPolicy'), rp, ['Always']));
      restartAlways = rp === 'Always';
    }
    const name = c.name ?? '';
    if (names.has(name)) errs.push(duplicate(p.child('name'), name));
    else if (name.length > 0) names.add(name);
    errs.push(...checkHostPortConflicts([c], path));
    if (restartAlways) {
      if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle as AnyRecord, grace, p.child('lifecycle')));
      errs.push(...validateProbe(c.livenessProbe, grace, p.child('livenessProbe'), 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, grace, p.child('readinessProbe'), 'readiness'));
      errs.push(...validateProbe(c.startupProbe, grace, p.child('startupProbe'), 'startup'));
    } else {
      const why = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(forbiddenField(p.child('lifecycle'), why));
      if (c.livenessProbe) errs.push(forbiddenField(p.child('livenessProbe'), why));
      if (c.readinessProbe) errs.push(forbiddenField(p.child('readinessProbe'), why));
      if (c.startupProbe) errs.push(forbiddenField(p.child('startupProbe'), why));
    }
  });
  return errs;
}

const ephemeralForbidden = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'];

export function validateEphemeralContainers(spec: PodSpec, volumes: Map<string, Volume>, claims: Set<string>, path: FieldPath, hostUsers: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const list = arr(spec.ephemeralContainers);
  if (list.length === 0) return errs;
  const others = new Set([...arr(spec.containers), ...arr(spec.initContainers)].map((c) => c?.name));
  const all = new Set(others);
  list.forEach((ec, i) => {
    const p = path.index(i);
    const c = ec as Container & AnyRecord;
    errs.push(...validateContainerCommon(c, volumes, claims, p, spec.restartPolicy, hostUsers));
    const image = str(c.image);
    if (image.length !== image.trim().length) errs.push(invalid(p.child('image'), image, 'must not have leading or trailing whitespace'));
    if (all.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else all.add(c.name);
    const target = typeof c.targetContainerName === 'string' ? c.targetContainerName : '';
    if (target && !others.has(target)) errs.push(fieldNotFound(p.child('targetContainerName'), target));
    for (const f of ephemeralForbidden) {
      if (c[f] !== undefined && !semanticDeepEqual(c[f], undefined)) errs.push(forbiddenField(p.child(f), 'cannot be set for an Ephemeral Container'));
    }
    arr(c.volumeMounts).forEach((vm, j) => {
      if (vm.subPath) errs.push(forbiddenField(p.child('volumeMounts').index(j).child('subPath'), 'cannot be set for an Ephemeral Container'));
      if (vm.subPathExpr) errs.push(forbiddenField(p.child('volumeMounts').index(j).child('subPathExpr'), 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

function validateContainerCommon(
  c: Container,
  volumes: Map<string, Volume>,
  claims: Set<string>,
  path: FieldPath,
  restartPolicy: string | undefined,
  hostUsers: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (name.length === 0) errs.push(required(path.child('name')));
  else for (const msg of isDNS1123Label(name)) errs.push(invalid(path.child('name'), name, msg));
  if (!str(c.image)) errs.push(required(path.child('image')));
  const tmp = str(c.terminationMessagePolicy);
  if (!tmp) errs.push(required(path.child('terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(path.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(arr(c.ports), path.child('ports')));
  errs.push(...validateEnv(arr(c.env), path.child('env')));
  errs.push(...validateEnvFrom(arr(c.envFrom), path.child('envFrom')));
  const devices = new Map(arr(c.volumeDevices).map((d) => [d.name, d.devicePath] as const));
  errs.push(...validateVolumeMounts(arr(c.volumeMounts), devices, volumes, c, path.child('volumeMounts')));
  errs.push(...validateVolumeDevices(arr(c.volumeDevices), arr(c.volumeMounts), volumes, path.child('volumeDevices')));
  const pull = str(c.imagePullPolicy);
  if (!pull) errs.push(required(path.child('imagePullPolicy')));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(notSupported(path.child('imagePullPolicy'), pull, ['Always', 'IfNotPresent', 'Never']));
  errs.push(...validateResourceRequirements(c.resources ?? {}, claims, path.child('resources')));
  errs.push(...validateResizePolicy(arr(rec(c).resizePolicy as AnyRecord[]), path.child('resizePolicy'), restartPolicy));
  errs.push(...validateSecurityContext(c.securityContext, path.child('securityContext'), hostUsers));
  return errs;
}

function validateContainerPorts(ports: ContainerPort[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(p.child('name'), port.name, m));
      else if (names.has(port.name)) errs.push(duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child('containerPort')));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(p.child('containerPort'), port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(p.child('hostPort'), port.hostPort, m));
    if (!port.protocol) errs.push(required(p.child('protocol')));
    else if (!['SCTP', 'TCP', 'UDP'].includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, ['SCTP', 'TCP', 'UDP']));
  });
  return errs;
}

function checkHostPortConflicts(containers: Container[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    arr(c?.ports).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateEnv(vars: EnvVar[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  vars.forEach((ev, i) => {
    const p = path.index(i);
    const name = ev?.name ?? '';
    if (!name) errs.push(required(p.child('name')));
    else for (const m of isRelaxedEnvVarName(name)) errs.push(invalid(p.child('name'), name, m));
    if (ev?.valueFrom) errs.push(...validateEnvVarValueFrom(ev, p.child('valueFrom')));
  });
  return errs;
}

const envDownwardFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
function validateEnvVarValueFrom(ev: EnvVar, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const vf = ev.valueFrom as AnyRecord;
  let n = 0;
  if (isRecord(vf.fieldRef)) {
    n++;
    errs.push(...validateObjectFieldSelector(vf.fieldRef, envDownwardFieldPaths, path.child('fieldRef')));
  }
  if (isRecord(vf.resourceFieldRef)) {
    n++;
    errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, path.child('resourceFieldRef'), false));
  }
  for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const s = vf[kind];
    if (!isRecord(s)) continue;
    n++;
    const p = path.child(kind);
    const name = typeof s.name === 'string' ? s.name : '';
    for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(p.child('name'), name, m));
    const key = typeof s.key === 'string' ? s.key : '';
    if (!key) errs.push(required(p.child('key')));
    else for (const m of isConfigMapKey(key)) errs.push(invalid(p.child('key'), key, m));
  }
  if (n === 0) errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (ev.value) errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  return errs;
}

function validateEnvFrom(list: EnvFromSource[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((ev, i) => {
    const p = path.index(i);
    if (ev.prefix) for (const m of isRelaxedEnvVarName(ev.prefix)) errs.push(invalid(p.child('prefix'), ev.prefix, m));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      const s = rec(ev)[kind];
      if (!isRecord(s)) continue;
      n++;
      const name = typeof s.name === 'string' ? s.name : '';
      if (!name) errs.push(required(p.child(kind).child('name')));
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(invalid(p.child(kind).child('name'), name, m));
    }
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: VolumeMount[], devices: Map<string, string>, volumes: Map<string, Volume>, c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  mounts.forEach((m, i) => {
    const p = path.index(i);
    const name = m?.name ?? '';
    const mountPath = m?.mountPath ?? '';
    if (!name) errs.push(required(p.child('name')));
    if (!volumes.has(name)) errs.push(fieldNotFound(p.child('name'), name));
    if (!mountPath) errs.push(required(p.child('mountPath')));
    if (mountPoints.has(mountPath)) errs.push(invalid(p.child('mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(p.child('name'), name, 'must not already exist in volumeDevices'));
    if ([...devices.values()].includes(mountPath)) errs.push(invalid(p.child('mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    const vol = volumes.get(name) as AnyRecord | undefined;
    if (vol?.image) {
      if (m.subPath) errs.push(invalid(p.child('subPath'), m.subPath, 'not allowed in image volume sources'));
      if (m.subPathExpr) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'not allowed in image volume sources'));
    }
    // Kubernetes reports subPath problems on the list path, not the item (kept as is).
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, path.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, path.child('subPathExpr')));
    }
    if (m.mountPropagation) {
      const mp = path.child('mountPropagation');
      if (!['Bidirectional', 'HostToContainer', 'None'].includes(m.mountPropagation)) {
        errs.push(notSupported(mp, m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
      }
      if (m.mountPropagation === 'Bidirectional' && c.securityContext?.privileged !== true) {
        errs.push(forbiddenField(mp, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    const rro = rec(m).recursiveReadOnly;
    if (rro !== undefined && rro !== null) {
      const rp = path.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (!m.readOnly) errs.push(forbiddenField(rp, 'may only be specified when readOnly is true'));
        if (m.mountPropagation && m.mountPropagation !== 'None') errs.push(forbiddenField(rp, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') {
        errs.push(notSupported(rp, rro, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  });
  return errs;
}

function validateVolumeDevices(devices: { name: string; devicePath: string }[], mounts: VolumeMount[], volumes: Map<string, Volume>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountByName = new Map(mounts.map((m) => [m.name, m.mountPath] as const));
  devices.forEach((d, i) => {
    const p = path.index(i);
    const vol = volumes.get(d.name);
    if (!d.name) errs.push(required(p.child('name')));
    if (names.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must be unique'));
    if (vol && !vol.persistentVolumeClaim && !vol.ephemeral) {
      errs.push(invalid(p.child('name'), d.name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (!vol) errs.push(fieldNotFound(p.child('name'), d.name));
    if (!d.devicePath) errs.push(required(p.child('devicePath')));
    if (paths.has(d.devicePath)) errs.push(invalid(p.child('devicePath'), d.devicePath, 'must be unique'));
    if (d.devicePath && d.devicePath.split('/').includes('..')) errs.push(invalid(p.child('devicePath'), d.devicePath, "can not contain backsteps ('..')"));
    else paths.add(d.devicePath);
    if (mountByName.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must not already exist in volumeMounts'));
    if ([...mountByName.values()].includes(d.devicePath)) errs.push(invalid(p.child('devicePath'), d.devicePath, 'must not already exist as a path in volumeMounts'));
    if (d.name) names.add(d.name);
  });
  return errs;
}
