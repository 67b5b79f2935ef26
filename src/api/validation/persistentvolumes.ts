// Validation of core/v1 PersistentVolumes as Kubernetes 1.32 validates them (ValidatePersistentVolume,
// ValidatePersistentVolumeSpec, ValidatePersistentVolumeUpdate, ValidatePersistentVolumeStatusUpdate,
// and the volume package's mount-option check). Pure and stateless; called by the volume strategy.

import { semanticDeepEqual } from '../equality.ts';
import { FieldPath, forbiddenField, GoValue, invalid, notSupported, required, type FieldError } from '../field.ts';
import { formatQuantity } from '../quantity.ts';
import type { NodeSelector, PersistentVolume, PersistentVolumeSpec } from '../types.ts';
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isDNS1123Subdomain, nameIsDNSSubdomain } from './names.ts';
import { accessModeErrors, SUPPORTED_VOLUME_MODES } from './persistentvolumeclaims.ts';
import { isRecord, list, validatePathNoBacksteps, type AnyRecord } from './pod/helpers.ts';
import { quantityOrError } from './pod/resources.ts';
import { validateNodeSelector } from './pod/scheduling.ts';

export const SUPPORTED_RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
/** The annotation that carried mount options before spec.mountOptions. */
const MOUNT_OPTION_ANNOTATION = 'volume.beta.kubernetes.io/mount-options';

const specPath = new FieldPath('spec');

/**
 * The volume sources of a PersistentVolumeSpec in the order Kubernetes checks them; the second name is
 * the path of its "more than 1" error (Kubernetes says cephFS there, cephfs elsewhere).
 */
const PV_SOURCES: [string, string][] = [
  ['hostPath', 'hostPath'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['nfs', 'nfs'],
  ['rbd', 'rbd'],
  ['quobyte', 'quobyte'],
  ['cephfs', 'cephFS'],
  ['iscsi', 'iscsi'],
  ['cinder', 'cinder'],
  ['fc', 'fc'],
  ['flexVolume', 'flexVolume'],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['scaleIO', 'scaleIO'],
  ['local', 'local'],
  ['storageos', 'storageos'],
  ['csi', 'csi'],
];
export const PERSISTENT_VOLUME_SOURCE_KEYS: readonly string[] = PV_SOURCES.map(([k]) => k);

/** Sources whose plugins take mount options (checkMountOption): the others refuse the annotation. */
const MOUNT_OPTION_SOURCES = ['gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'nfs', 'rbd', 'quobyte', 'iscsi', 'cinder', 'cephfs', 'azureFile', 'vsphereVolume', 'azureDisk', 'photonPersistentDisk'];

const str = (s: AnyRecord, k: string): string => (typeof s[k] === 'string' ? (s[k] as string) : '');

function validateSource(key: string, s: AnyRecord, spec: FieldPath): FieldError[] {
  const p = spec.child(key);
  const errs: FieldError[] = [];
  const requireAll = (...fields: string[]) => {
    for (const f of fields) if (!str(s, f)) errs.push(required(p.child(f), ''));
  };
  switch (key) {
    case 'hostPath': {
      const path = str(s, 'path');
      if (!path) return [required(p.child('path'), '')];
      errs.push(...validatePathNoBacksteps(path, p.child('path')));
      if (s.type != null && !HOST_PATH_TYPES.includes(String(s.type))) errs.push(notSupported(p.child('type'), s.type, HOST_PATH_TYPES));
      break;
    }
    case 'local': {
      const path = str(s, 'path');
      if (!path) return [required(p.child('path'), '')];
      errs.push(...validatePathNoBacksteps(path, p.child('path')));
      break;
    }
    case 'nfs': {
      requireAll('server', 'path');
      const path = str(s, 'path');
      if (!path.startsWith('/')) errs.push(invalid(p.child('path'), path, 'must be an absolute path'));
      break;
    }
    case 'csi': {
      const driver = str(s, 'driver');
      // ValidateCSIDriverName
      if (!driver) errs.push(required(p.child('driver'), ''));
      if (driver.length > 63) errs.push({ type: 'FieldValueTooLong', field: String(p.child('driver')), badValue: driver, detail: 'must be no more than 63 characters' });
      for (const msg of isDNS1123Subdomain(driver.toLowerCase())) if (driver) errs.push(invalid(p.child('driver'), driver, msg));
      requireAll('volumeHandle');
      break;
    }
    case 'iscsi':
      requireAll('targetPortal', 'iqn');
      break;
    case 'rbd':
      if (list(s.monitors as unknown[]).length === 0) errs.push(required(p.child('monitors'), ''));
      requireAll('image');
      break;
    case 'cephfs':
      if (list(s.monitors as unknown[]).length === 0) errs.push(required(p.child('monitors'), ''));
      break;
    case 'glusterfs':
      requireAll('endpoints', 'path');
      break;
    case 'flexVolume':
      requireAll('driver');
      break;
    case 'azureFile':
      requireAll('secretName', 'shareName');
      break;
    case 'azureDisk':
      requireAll('diskName', 'diskURI');
      break;
    case 'cinder':
    case 'portworxVolume':
      requireAll('volumeID');
      break;
    case 'awsElasticBlockStore':
      requireAll('volumeID');
      break;
    case 'gcePersistentDisk':
      // Kubernetes names this source's fields under "persistentDisk".
      if (!str(s, 'pdName')) errs.push(required(spec.child('persistentDisk', 'pdName'), ''));
      break;
    case 'vsphereVolume':
      requireAll('volumePath');
      break;
    case 'photonPersistentDisk':
      requireAll('pdID');
      break;
    case 'scaleIO':
      requireAll('gateway', 'system', 'volumeName');
      break;
  }
  return errs;
}

/** validateVolumeNodeAffinity: a given affinity must carry required node constraints. */
function validateVolumeNodeAffinity(affinity: unknown, p: FieldPath): FieldError[] {
  const a = isRecord(affinity) ? affinity : {};
  if (!isRecord(a.required)) return [required(p.child('required'), 'must specify required node constraints')];
  return validateNodeSelector(a.required as unknown as NodeSelector, p.child('required'));
}

/** Go's `%#v` of the capacity map, quantities shown by their canonical strings. */
function goResourceList(capacity: Record<string, unknown> | undefined): GoValue {
  if (!capacity) return new GoValue('core.ResourceList(nil)');
  const keys = Object.keys(capacity).sort();
  return new GoValue(`core.ResourceList{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(capacity[k]))}`).join(', ')}}`);
}

/** ValidatePersistentVolumeSpec (not inline). */
export function validatePersistentVolumeSpec(spec: PersistentVolumeSpec | undefined, path: FieldPath = specPath): FieldError[] {
  const s = (spec ?? {}) as PersistentVolumeSpec & AnyRecord;
  const errs: FieldError[] = [];
  const modes = list(s.accessModes);
  if (modes.length === 0) errs.push(required(path.child('accessModes'), ''));
  errs.push(...accessModeErrors(modes, path.child('accessModes')));

  const capacity = isRecord(s.capacity) ? (s.capacity as Record<string, unknown>) : undefined;
  const capKeys = Object.keys(capacity ?? {});
  if (capKeys.length === 0) errs.push(required(path.child('capacity'), ''));
  if (!capKeys.includes('storage') || capKeys.length > 1) errs.push(notSupported(path.child('capacity'), goResourceList(capacity), ['storage']));
  for (const name of capKeys.sort()) {
    const p = path.child('capacity').key(name);
    const q = quantityOrError(capacity![name], p, errs);
    if (!q) continue;
    // validateBasicResource reports the value in whole units; ValidatePositiveQuantityValue the quantity.
    if (q.nanos < 0n) errs.push(invalid(p, Number(q.nanos / 1_000_000_000n) - (q.nanos % 1_000_000_000n === 0n ? 0 : 1), 'must be a valid resource quantity'));
    if (q.nanos <= 0n) errs.push(invalid(p, formatQuantity(q), 'must be greater than zero'));
  }

  const policy = s.persistentVolumeReclaimPolicy;
  if (policy && !SUPPORTED_RECLAIM_POLICIES.includes(policy)) errs.push(notSupported(path.child('persistentVolumeReclaimPolicy'), policy, SUPPORTED_RECLAIM_POLICIES));

  const affinitySet = s.nodeAffinity != null;
  if (affinitySet) errs.push(...validateVolumeNodeAffinity(s.nodeAffinity, path.child('nodeAffinity')));

  let count = 0;
  for (const [key, errName] of PV_SOURCES) {
    const src = s[key];
    if (src === undefined || src === null) continue;
    // Kubernetes counts a flexVolume without checking for an earlier source.
    if (count > 0 && key !== 'flexVolume') {
      errs.push(forbiddenField(path.child(errName), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateSource(key, isRecord(src) ? src : {}, path));
    if (key === 'local' && !affinitySet) errs.push(required(path.child('nodeAffinity'), 'Local volume requires node affinity'));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));

  const hostPath = isRecord(s.hostPath) ? str(s.hostPath, 'path') : undefined;
  if (hostPath !== undefined && cleanPath(hostPath) === '/' && policy === 'Recycle') {
    errs.push(forbiddenField(path.child('persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (s.storageClassName) {
    for (const msg of nameIsDNSSubdomain(s.storageClassName, false)) errs.push(invalid(path.child('storageClassName'), s.storageClassName, msg));
  }
  if (s.volumeMode != null && !SUPPORTED_VOLUME_MODES.includes(s.volumeMode)) errs.push(notSupported(path.child('volumeMode'), s.volumeMode, SUPPORTED_VOLUME_MODES));
  return errs;
}

/** Go's path.Clean, enough to tell whether a path is the root. */
function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return (p.startsWith('/') ? '/' : '') + parts.join('/') || '.';
}

/** The volume package's checkMountOption: the old mount-options annotation only where the plugin takes options. */
function validateMountOptionAnnotation(pv: PersistentVolume): FieldError[] {
  const spec = (pv.spec ?? {}) as AnyRecord;
  if (MOUNT_OPTION_SOURCES.some((k) => spec[k] != null)) return [];
  if (pv.metadata?.annotations?.[MOUNT_OPTION_ANNOTATION] === undefined) return [];
  return [forbiddenField(new FieldPath('metadata').child('annotations', MOUNT_OPTION_ANNOTATION), 'may not specify mount options for this volume type')];
}

export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  return [
    ...validateObjectMeta(pv.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }),
    ...validatePersistentVolumeSpec(pv.spec),
    ...validateMountOptionAnnotation(pv),
  ];
}

/** The volume source part of a spec (PersistentVolumeSource is embedded: its fields sit in spec). */
function volumeSource(spec: PersistentVolumeSpec | undefined): Record<string, unknown> {
  const s = (spec ?? {}) as AnyRecord;
  const out: Record<string, unknown> = {};
  for (const k of PERSISTENT_VOLUME_SOURCE_KEYS) if (s[k] != null) out[k] = s[k];
  return out;
}

function sourceDiff(oldSrc: Record<string, unknown>, newSrc: Record<string, unknown>): string {
  return [...new Set([...Object.keys(oldSrc), ...Object.keys(newSrc)])]
    .sort()
    .filter((k) => !semanticDeepEqual(oldSrc[k], newSrc[k]))
    .map((k) => `  ${k}: ${JSON.stringify(oldSrc[k] ?? null)} -> ${JSON.stringify(newSrc[k] ?? null)}`)
    .join('\n');
}

/**
 * Node affinity may be updated only to replace beta topology labels by their GA names
 * (volumeNodeAffinitiesEqual); anything else is the same affinity or a refused change.
 */
const BETA_TO_GA_LABELS: Record<string, string> = {
  'failure-domain.beta.kubernetes.io/zone': 'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region': 'topology.kubernetes.io/region',
  'beta.kubernetes.io/instance-type': 'node.kubernetes.io/instance-type',
};

function withGALabels(affinity: unknown): unknown {
  const copy = structuredClone(affinity) as AnyRecord | undefined | null;
  const terms = isRecord(copy) && isRecord(copy.required) ? list(copy.required.nodeSelectorTerms as AnyRecord[]) : [];
  for (const t of terms) {
    for (const e of list((isRecord(t) ? t.matchExpressions : undefined) as AnyRecord[])) {
      if (isRecord(e) && typeof e.key === 'string' && BETA_TO_GA_LABELS[e.key]) e.key = BETA_TO_GA_LABELS[e.key];
    }
  }
  return copy;
}

/**
 * ValidatePersistentVolumeUpdate: the volume source and mode are fixed at creation; node affinity may
 * be set once, then only move from beta to GA topology labels.
 */
export function validatePersistentVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = [...validateObjectMetaUpdate(pv.metadata, old.metadata), ...validatePersistentVolume(pv)];
  const newSrc = volumeSource(pv.spec);
  const oldSrc = volumeSource(old.spec);
  // A CSI volume's controllerExpandSecretRef may be added later.
  const oldCSI = oldSrc.csi as AnyRecord | undefined;
  const newCSI = newSrc.csi as AnyRecord | undefined;
  if (oldCSI && newCSI && oldCSI.controllerExpandSecretRef == null && newCSI.controllerExpandSecretRef != null) {
    const rest = { ...newCSI };
    delete rest.controllerExpandSecretRef;
    newSrc.csi = rest;
  }
  if (!semanticDeepEqual(newSrc, oldSrc)) {
    errs.push(forbiddenField(new FieldPath('spec').child('persistentvolumesource'), `spec.persistentvolumesource is immutable after creation\n${sourceDiff(oldSrc, newSrc)}`));
  }
  // Kubernetes reports this one at "volumeMode", without the spec prefix (its path quirk, kept).
  errs.push(...validateImmutableField(pv.spec?.volumeMode, old.spec?.volumeMode, new FieldPath('volumeMode')));
  if (old.spec?.nodeAffinity != null) {
    const oldAff = old.spec.nodeAffinity;
    const newAff = pv.spec?.nodeAffinity;
    const equal = semanticDeepEqual(oldAff, newAff) || (newAff != null && semanticDeepEqual(withGALabels(oldAff), newAff));
    // The bad value is Go's %#v of the affinity (with a pointer address); shown here as JSON instead.
    if (!equal) errs.push(invalid(new FieldPath('nodeAffinity'), newAff ?? null, 'field is immutable, except for updating from beta label to GA'));
  }
  return errs;
}

/** ValidatePersistentVolumeStatusUpdate: only metadata rules; the status is the controllers'. */
export function validatePersistentVolumeStatusUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = validateObjectMetaUpdate(pv.metadata, old.metadata);
  if (!pv.metadata?.resourceVersion) errs.push(required(new FieldPath('resourceVersion'), ''));
  return errs;
}
