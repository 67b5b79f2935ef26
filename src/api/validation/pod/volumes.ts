// spec.volumes: one source per volume, its fields, and the downward API selectors (shared with env).

import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import { formatQuantity } from '../../quantity.ts';
import type { ObjectMeta, Volume } from '../../types.ts';
import { isDNS1123Label, isQualifiedName, nameIsDNSSubdomain } from '../names.ts';
import { quantityOrError } from './resources.ts';
import { isRecord, arr, list, sorted, validateEnum, validatePathNoBacksteps, validateLocalDescendingPath, validateLocalNonReservedPath, type AnyRecord } from './helpers.ts';

const FILE_MODE_MESSAGE = 'must be a number between 0 and 0777 (octal), both inclusive';

/** Sources in the order Kubernetes checks them; the second name is its path for the "more than 1" error. */
const volumeSources: [string, string][] = [
  ['emptyDir', 'emptyDir'],
  ['hostPath', 'hostPath'],
  ['gitRepo', 'gitRepo'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['secret', 'secret'],
  ['nfs', 'nfs'],
  ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['persistentVolumeClaim', 'persistentVolumeClaim'],
  ['rbd', 'rbd'],
  ['cinder', 'cinder'],
  ['cephfs', 'cephFS'],
  ['quobyte', 'quobyte'],
  // Kubernetes misspells this path in the error ("downwarAPI"); kept as users see it.
  ['downwardAPI', 'downwarAPI'],
  ['fc', 'fc'],
  ['flexVolume', 'flexVolume'],
  ['configMap', 'configMap'],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'],
  ['projected', 'projected'],
  ['scaleIO', 'scaleIO'],
  ['csi', 'csi'],
  ['ephemeral', 'ephemeral'],
  ['image', 'image'],
];

export function validateVolumes(volumes: Volume[], meta: ObjectMeta | undefined, path: FieldPath): { volumes: Map<string, Volume>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const valid = new Map<string, Volume>();
  const names = new Set<string>();
  const createdPVCs = new Set<string>();
  if (meta?.name) for (const v of volumes) if (v?.ephemeral) createdPVCs.add(`${meta.name}-${v.name}`);
  volumes.forEach((vol, i) => {
    const idx = path.index(i);
    if (!isRecord(vol)) {
      errs.push(required(idx.child('name')));
      return;
    }
    const el = validateVolumeSource(vol, idx, meta);
    const name = vol.name ?? '';
    if (name.length === 0) el.push(required(idx.child('name')));
    else for (const msg of isDNS1123Label(name)) el.push(invalid(idx.child('name'), name, msg));
    if (names.has(name)) el.push(duplicate(idx.child('name'), name));
    if (el.length === 0) {
      names.add(name);
      valid.set(name, vol);
    } else {
      errs.push(...el);
    }
    const claim = vol.persistentVolumeClaim?.claimName;
    if (claim && createdPVCs.has(claim)) {
      errs.push(invalid(idx.child('persistentVolumeClaim').child('claimName'), claim, 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { volumes: valid, errs };
}

function validateVolumeSource(vol: Volume, path: FieldPath, meta: ObjectMeta | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const src = vol as unknown as AnyRecord;
  let count = 0;
  for (const [key, errName] of volumeSources) {
    const s = src[key];
    if (s === undefined || s === null) continue;
    if (count > 0) {
      errs.push(forbiddenField(path.child(errName), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateOneVolumeSource(key, isRecord(s) ? s : {}, path, vol.name ?? '', meta));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

const fileModeErrors = (mode: unknown, path: FieldPath): FieldError[] =>
  typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_MESSAGE)] : [];

function validateOneVolumeSource(key: string, s: AnyRecord, path: FieldPath, volName: string, meta: ObjectMeta | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const str = (k: string): string => (typeof s[k] === 'string' ? (s[k] as string) : '');
  const p = path.child(key);
  switch (key) {
    case 'emptyDir': {
      if (s.sizeLimit !== undefined && s.sizeLimit !== null) {
        const q = quantityOrError(s.sizeLimit, p.child('sizeLimit'), errs);
        if (q && q.nanos < 0n) errs.push(forbiddenField(p.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      // Kubernetes does not validate emptyDir.medium; the kubelet rejects unknown media at mount time.
      break;
    }
    case 'hostPath': {
      const hp = str('path');
      if (hp.length === 0) {
        errs.push(required(p.child('path')));
        break;
      }
      errs.push(...validatePathNoBacksteps(hp, p.child('path')));
      const t = s.type;
      const types = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
      if (t !== undefined && t !== null && !types.includes(String(t))) errs.push(notSupported(p.child('type'), t, types));
      break;
    }
    case 'secret':
      if (!str('secretName')) errs.push(required(p.child('secretName')));
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      arr(s.items as AnyRecord[]).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
      break;
    case 'configMap':
      if (!str('name')) errs.push(required(p.child('name')));
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      arr(s.items as AnyRecord[]).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
      break;
    case 'nfs': {
      if (!str('server')) errs.push(required(p.child('server')));
      const np = str('path');
      if (!np) errs.push(required(p.child('path')));
      if (!np.startsWith('/')) errs.push(invalid(p.child('path'), np, 'must be an absolute path'));
      break;
    }
    case 'persistentVolumeClaim':
      if (!str('claimName')) errs.push(required(p.child('claimName')));
      break;
    case 'downwardAPI':
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      for (const f of arr(s.items as AnyRecord[])) errs.push(...validateDownwardAPIVolumeFile(f, p));
      break;
    case 'projected':
      errs.push(...fileModeErrors(s.defaultMode, p.child('defaultMode')));
      errs.push(...validateProjectionSources(arr(s.sources as AnyRecord[]), p));
      break;
    case 'gitRepo':
      if (!str('repository')) errs.push(required(p.child('repository')));
      errs.push(...validateLocalDescendingPath(str('directory'), p.child('directory')));
      break;
    case 'csi':
      if (!str('driver')) errs.push(required(p.child('driver')));
      break;
    case 'ephemeral':
      if (!isRecord(s.volumeClaimTemplate)) errs.push(required(p.child('volumeClaimTemplate')));
      else if (meta?.name && volName) {
        for (const msg of nameIsDNSSubdomain(`${meta.name}-${volName}`, false)) {
          errs.push(invalid(path.child('name'), volName, `PVC name ${JSON.stringify(`${meta.name}-${volName}`)}: ${msg}`));
        }
      }
      break;
    case 'image':
      if (!str('reference')) errs.push(required(p.child('reference')));
      if (s.pullPolicy !== undefined && s.pullPolicy !== '') errs.push(...validateEnum(String(s.pullPolicy), p.child('pullPolicy'), ['Always', 'IfNotPresent', 'Never']));
      break;
    case 'iscsi':
      if (!str('targetPortal')) errs.push(required(p.child('targetPortal')));
      if (!str('iqn')) errs.push(required(p.child('iqn')));
      break;
    case 'rbd':
      if (list(s.monitors as string[]).length === 0) errs.push(required(p.child('monitors')));
      if (!str('image')) errs.push(required(p.child('image')));
      break;
    case 'cephfs':
      if (list(s.monitors as string[]).length === 0) errs.push(required(p.child('monitors')));
      break;
    case 'glusterfs':
      if (!str('endpoints')) errs.push(required(p.child('endpoints')));
      if (!str('path')) errs.push(required(p.child('path')));
      break;
    default:
      // Cloud and vendor sources: tinykube cannot mount them; only their presence is checked.
      break;
  }
  return errs;
}

function validateKeyToPath(kp: AnyRecord, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const key = typeof kp.key === 'string' ? kp.key : '';
  const p = typeof kp.path === 'string' ? kp.path : '';
  if (!key) errs.push(required(path.child('key')));
  if (!p) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  errs.push(...fileModeErrors(kp.mode, path.child('mode')));
  return errs;
}

const volumeDownwardFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const resourceFieldPaths = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

function validateDownwardAPIVolumeFile(f: AnyRecord, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const p = typeof f.path === 'string' ? f.path : '';
  if (!p) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  if (isRecord(f.fieldRef)) {
    errs.push(...validateObjectFieldSelector(f.fieldRef, volumeDownwardFieldPaths, path.child('fieldRef')));
    if (isRecord(f.resourceFieldRef)) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isRecord(f.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(f.resourceFieldRef, path.child('resourceFieldRef'), true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...fileModeErrors(f.mode, path.child('mode')));
  return errs;
}

function validateProjectionSources(sources: AnyRecord[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const allPaths = new Set<string>();
  const claim = (p: string, conflictValue: unknown): void => {
    if (!p) return;
    if (allPaths.has(p)) errs.push(invalid(path, conflictValue, 'conflicting duplicate paths'));
    else allPaths.add(p);
  };
  sources.forEach((src, i) => {
    let n = 0;
    const sp = path.child('sources').index(i);
    for (const kind of ['secret', 'configMap'] as const) {
      const s = src[kind];
      if (!isRecord(s)) continue;
      n++;
      const pp = sp.child(kind);
      if (!s.name) errs.push(required(pp.child('name')));
      arr(s.items as AnyRecord[]).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, pp.child('items').index(j)));
        claim(typeof kp.path === 'string' ? kp.path : '', s.name ?? '');
      });
    }
    if (isRecord(src.downwardAPI)) {
      n++;
      for (const f of arr(src.downwardAPI.items as AnyRecord[])) {
        errs.push(...validateDownwardAPIVolumeFile(f, sp.child('downwardAPI')));
        const fp = typeof f.path === 'string' ? f.path : '';
        claim(fp, fp);
      }
    }
    if (isRecord(src.serviceAccountToken)) {
      n++;
      const t = src.serviceAccountToken;
      const exp = typeof t.expirationSeconds === 'number' ? t.expirationSeconds : 0;
      const tp = sp.child('serviceAccountToken');
      if (exp < 600) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(tp.child('expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      const tpath = typeof t.path === 'string' ? t.path : '';
      if (!tpath) errs.push(required(path.child('path')));
      else errs.push(...validateLocalNonReservedPath(tpath, path.child('path')));
    }
    if (isRecord(src.clusterTrustBundle)) {
      n++;
      const c = src.clusterTrustBundle;
      const cp = sp.child('clusterTrustBundle');
      if (c.name === undefined && c.signerName === undefined) errs.push(required(cp, 'either name or signerName must be specified'));
      if (c.name !== undefined && c.signerName !== undefined) errs.push(invalid(cp, c, 'only one of name and signerName may be used'));
      const ctp = typeof c.path === 'string' ? c.path : '';
      if (!ctp) errs.push(required(cp.child('path')));
      errs.push(...validateLocalNonReservedPath(ctp, cp.child('path')));
      claim(ctp, ctp);
    }
    if (n > 1) errs.push(forbiddenField(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** Pod field labels the downward API's field label conversion accepts. */
const downwardConvertible = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** downward API field references, with the apiserver's field label conversion. */
export function validateObjectFieldSelector(fs: AnyRecord, expressions: string[], path: FieldPath): FieldError[] {
  const apiVersion = typeof fs.apiVersion === 'string' ? fs.apiVersion : '';
  const fieldPath = typeof fs.fieldPath === 'string' ? fs.fieldPath : '';
  if (!apiVersion) return [required(path.child('apiVersion'))];
  if (!fieldPath) return [required(path.child('fieldPath'))];
  if (apiVersion !== 'v1') return [invalid(path.child('fieldPath'), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`)];
  const sub = /^(metadata\.(?:annotations|labels))\['(.*)'\]$/.exec(fieldPath);
  if (!sub && !downwardConvertible.has(fieldPath)) {
    return [invalid(path.child('fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)];
  }
  if (sub) {
    const [, p, key] = sub;
    return isQualifiedName(p === 'metadata.annotations' ? key.toLowerCase() : key).map((msg) => invalid(path, key, msg));
  }
  return expressions.includes(fieldPath) ? [] : [notSupported(path.child('fieldPath'), fieldPath, sorted(expressions))];
}

export function validateResourceFieldSelector(fs: AnyRecord, path: FieldPath, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = typeof fs.resource === 'string' ? fs.resource : '';
  if (volume && !fs.containerName) errs.push(required(path.child('containerName')));
  else if (!resource) errs.push(required(path.child('resource')));
  else if (!resourceFieldPaths.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    errs.push(notSupported(path.child('resource'), resource, resourceFieldPaths));
  }
  if (fs.divisor !== undefined && fs.divisor !== null) {
    const q = quantityOrError(fs.divisor, path.child('divisor'), errs);
    if (q && q.nanos !== 0n) {
      const d = formatQuantity(q);
      const mem = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];
      const list = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && d !== '1m' && d !== '1') {
        errs.push(invalid(path.child('divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if ((resource === 'limits.memory' || resource === 'requests.memory') && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the memory resource`));
      } else if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the local ephemeral storage resource`));
      } else if ((resource.startsWith('requests.hugepages-') || resource.startsWith('limits.hugepages-')) && !mem.includes(d)) {
        errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the hugepages resource`));
      }
    }
  }
  return errs;
}
