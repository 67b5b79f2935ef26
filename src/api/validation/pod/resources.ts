// Resource names and quantities (ValidateResourceRequirements, pod overhead, resize policy); the name and
// quantity checks are shared with nodes and priority classes (../others.ts).

import { duplicate, FieldPath, forbiddenField, invalid, notSupported, required, type FieldError } from '../../field.ts';
import { cmpQuantity, formatQuantity, parseWireQuantity, QuantityError, valueBig, type Quantity } from '../../quantity.ts';
import type { ResourceRequirements } from '../../types.ts';
import { isQualifiedName } from '../names.ts';
import { rec, isRecord, arr, type AnyRecord } from './helpers.ts';

const NOT_INTEGER_MESSAGE = 'must be an integer';

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);
const standardResources = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu',
  'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
  'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
]);
const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isExtendedResource = (name: string): boolean =>
  !isNativeResource(name) && !name.startsWith('requests.') && isQualifiedName(`requests.${name}`).length === 0;
const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePages(name);

/** A resource name in a container's (or node's) resource list. */
export function validateContainerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!standardResources.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
    if (!standardContainerResources.has(name) && !isHugePages(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

export function quantityOrError(v: unknown, path: FieldPath, errs: FieldError[]): Quantity | undefined {
  try {
    return parseWireQuantity(v);
  } catch (err) {
    if (!(err instanceof QuantityError)) throw err;
    errs.push(invalid(path, typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v), err.message));
    return undefined;
  }
}

/** Non-negative, and whole numbers for extended resources (ValidateResourceQuantityValue). */
export function validateResourceQuantityValue(name: string, raw: unknown, path: FieldPath): { errs: FieldError[]; q?: Quantity } {
  const errs: FieldError[] = [];
  const q = quantityOrError(raw, path, errs);
  if (!q) return { errs };
  if (q.nanos < 0n) errs.push(invalid(path, formatQuantity(q), 'must be greater than or equal to 0'));
  if (isExtendedResource(name) && q.nanos % 1_000_000_000n !== 0n) errs.push(invalid(path, formatQuantity(q), NOT_INTEGER_MESSAGE));
  return { errs, q };
}

function hugePagesError(name: string, q: Quantity): string | undefined {
  const size = (() => {
    try {
      return parseWireQuantity(name.slice('hugepages-'.length));
    } catch {
      return undefined;
    }
  })();
  if (!size || size.nanos <= 0n || q.nanos < 0n || valueBig(q) % valueBig(size) !== 0n) return `${formatQuantity(q)} is not positive integer multiple of ${name}`;
  return undefined;
}

/** ValidateResourceRequirements (container resources, pod overhead). */
export function validateResourceRequirements(req: ResourceRequirements, claims: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = isRecord(req.limits) ? (req.limits as AnyRecord) : {};
  const requests = isRecord(req.requests) ? (req.requests as AnyRecord) : {};
  let limCpuMem = false;
  let reqCpuMem = false;
  let hugePages = false;
  const limitQ = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(limits)) {
    const p = limPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const { errs: qErrs, q } = validateResourceQuantityValue(name, raw, p);
    errs.push(...qErrs);
    if (q) limitQ.set(name, q);
    if (isHugePages(name)) {
      hugePages = true;
      const he = q && hugePagesError(name, q);
      if (he && q) errs.push(invalid(p, formatQuantity(q), he));
    }
    if (name === 'cpu' || name === 'memory') limCpuMem = true;
  }
  for (const [name, raw] of Object.entries(requests)) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const { errs: qErrs, q } = validateResourceQuantityValue(name, raw, p);
    errs.push(...qErrs);
    const lim = limitQ.get(name);
    if (q && Object.hasOwn(limits, name)) {
      if (lim && cmpQuantity(q, lim) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
      } else if (lim && cmpQuantity(q, lim) > 0) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
      }
    } else if (!Object.hasOwn(limits, name) && !isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePages(name)) {
      hugePages = true;
      const he = q && hugePagesError(name, q);
      if (he && q) errs.push(invalid(p, formatQuantity(q), he));
    }
    if (name === 'cpu' || name === 'memory') reqCpuMem = true;
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(forbiddenField(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  arr(rec(req).claims as { name?: string }[]).forEach((c, i) => {
    const p = path.child('claims').index(i);
    const name = c?.name ?? '';
    if (!name) {
      errs.push(required(p));
      return;
    }
    if (seen.has(name)) errs.push(duplicate(p, name));
    else seen.add(name);
    if (!claims.has(name)) {
      const list = [...claims].sort();
      errs.push({
        type: 'FieldValueNotFound',
        field: String(p),
        badValue: name,
        detail: `must be one of the names in pod.spec.resourceClaims${list.length ? `: ${list.join(', ')}` : ' which is empty'}`,
      });
    }
  });
  return errs;
}

export function validateResizePolicy(list: AnyRecord[], path: FieldPath, restartPolicy: string | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<unknown>();
  list.forEach((p, i) => {
    if (seen.has(p.resourceName)) errs.push(duplicate(path.index(i), p.resourceName));
    seen.add(p.resourceName);
    if (!p.resourceName) errs.push(required(path));
    else if (p.resourceName !== 'cpu' && p.resourceName !== 'memory') errs.push(notSupported(path, p.resourceName, ['cpu', 'memory']));
    if (!p.restartPolicy) errs.push(required(path));
    else if (p.restartPolicy !== 'NotRequired' && p.restartPolicy !== 'RestartContainer') {
      errs.push(notSupported(path, p.restartPolicy, ['NotRequired', 'RestartContainer']));
    }
    if (restartPolicy === 'Never' && p.restartPolicy !== 'NotRequired') {
      errs.push(invalid(path, p.restartPolicy ?? '', "must be 'NotRequired' when `restartPolicy` is 'Never'"));
    }
  });
  return errs;
}
