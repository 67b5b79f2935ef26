// core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlice: Kubernetes 1.32's defaults and validation
// (pkg/apis/core/validation ValidateEndpoints, pkg/apis/discovery/validation), with its messages.

import { isIP } from 'node:net';
import { duplicate, FieldPath, invalid, notSupported, required, type FieldError } from '../field.ts';
import type { EndpointSlice, Endpoints } from '../types.ts';
import { validateImmutableField, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidIP, isValidPortNum, nameIsDNSSubdomain, parseIPSloppy } from './names.ts';

/** sets.List() order: sorted. */
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
/** Still accepted on update so old slices can be written back (discovery.AddressTypeIP). */
const DEPRECATED_ADDRESS_TYPES = ['IP'];
export const MAX_SLICE_ENDPOINTS = 1000;
const MAX_SLICE_PORTS = 100;
const MAX_ADDRESSES = 100;
const MAX_TOPOLOGY_LABELS = 16;

const tooMany = (p: FieldPath, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field: String(p), badValue: actual, detail: `must have at most ${max} items` });

function dns1123Label(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(path, value, m));
}

/** An IPv4 address as Go's net.ParseIP reads it, as four octets (undefined for IPv6 or garbage). */
function octets(ip: string): number[] | undefined {
  if (parseIPSloppy(ip) !== 4) return undefined;
  return ip.split('.').map(Number);
}

/** ValidateNonSpecialIP: unspecified, loopback and link-local addresses make no sense as endpoints. */
export function validateNonSpecialIP(ip: string, path: FieldPath): FieldError[] {
  const fam = parseIPSloppy(ip);
  if (!fam) return [invalid(path, ip, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const o = octets(ip);
  const v6 = fam === 6 ? ip.toLowerCase() : '';
  const first = fam === 6 ? parseInt(v6.startsWith('::') ? '0' : v6.split(':')[0]!, 16) : 0;
  const unspecified = o ? o.every((x) => x === 0) : v6.replace(/[:0]/g, '') === '';
  const loopback = o ? o[0] === 127 : v6 === '::1' || /^(0+:){7}0*1$/.test(v6);
  const linkLocal = o ? o[0] === 169 && o[1] === 254 : (first & 0xffc0) === 0xfe80;
  const linkLocalMulticast = o ? o[0] === 224 && o[1] === 0 && o[2] === 0 : (first & 0xff0f) === 0xff02;
  if (unspecified) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (loopback) errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

// ---------------------------------------------------------------- core/v1 Endpoints

/** SetDefaults_Endpoints: every port's protocol is TCP unless given. */
export function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) (p as { protocol?: string }).protocol ||= 'TCP';
}

type Address = NonNullable<NonNullable<Endpoints['subsets']>[number]['addresses']>[number];

function validateEndpointAddress(a: Address, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const ip = a.ip ?? '';
  errs.push(...isValidIP(ip).map((m) => invalid(path.child('ip'), ip, m)));
  if (a.hostname) errs.push(...dns1123Label(a.hostname, path.child('hostname')));
  if (a.nodeName != null) errs.push(...isDNS1123Subdomain(a.nodeName).map((m) => invalid(path.child('nodeName'), a.nodeName, m)));
  errs.push(...validateNonSpecialIP(ip, path.child('ip')));
  return errs;
}

function validateEndpointSubsets(ep: Endpoints, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = path.index(i);
    // Headless services' endpoints may have no ports; they must have addresses.
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child('addresses').index(j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child('notReadyAddresses').index(j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = p.child('ports').index(j);
      if (ports.length > 1 && !port.name) errs.push(required(pp.child('name')));
      else if (port.name) errs.push(...dns1123Label(port.name, pp.child('name')));
      errs.push(...isValidPortNum(port.port ?? 0).map((m) => invalid(pp.child('port'), port.port ?? 0, m)));
      if (!port.protocol) errs.push(required(pp.child('protocol'), ''));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(pp.child('protocol'), port.protocol, PROTOCOLS));
    });
  });
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  return [...validateObjectMeta(ep.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validateEndpointSubsets(ep, new FieldPath('subsets'))];
}

export function validateEndpointsUpdate(ep: Endpoints, old: Endpoints): FieldError[] {
  return [...validateObjectMetaUpdate(ep.metadata, old.metadata), ...validateEndpointSubsets(ep, new FieldPath('subsets'))];
}

// ---------------------------------------------------------------- discovery.k8s.io/v1 EndpointSlice

/** SetDefaults_EndpointPort: a port's name is "" and its protocol TCP unless given. */
export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) {
    const m = p as { name?: string; protocol?: string };
    m.name ??= '';
    m.protocol ??= 'TCP';
  }
}

/** validation.IsFullyQualifiedDomainName. */
function validateFQDN(name: string, path: FieldPath): FieldError[] {
  if (name === '') return [required(path, '')];
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const sub = isDNS1123Subdomain(n);
  if (sub.length) return [invalid(path, n, sub.join(','))];
  const labels = n.split('.');
  if (labels.length < 2) return [invalid(path, n, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length) return [invalid(path, l, e.join(','))];
  }
  return [];
}

function validateSliceAddress(addr: string, type: string, path: FieldPath): FieldError[] {
  switch (type) {
    case 'IP':
      return isValidIP(addr).map((m) => invalid(path, addr, m));
    case 'IPv4':
      return [...(parseIPSloppy(addr) === 4 ? [] : [invalid(path, addr, 'must be a valid IPv4 address')]), ...validateNonSpecialIP(addr, path)];
    case 'IPv6':
      return [...(isIP(addr) === 6 ? [] : [invalid(path, addr, 'must be a valid IPv6 address')]), ...validateNonSpecialIP(addr, path)];
    case 'FQDN':
      return validateFQDN(addr, path);
  }
  // Unknown types are reported on addressType and their addresses left alone, as Kubernetes does.
  return [];
}

function validateSlice(slice: EndpointSlice, validTypes: string[]): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain });
  const type = slice.addressType ?? '';
  if (type === '') errs.push(required(new FieldPath('addressType'), ''));
  else if (!validTypes.includes(type)) errs.push(notSupported(new FieldPath('addressType'), type, validTypes));

  const eps = slice.endpoints ?? [];
  const epPath = new FieldPath('endpoints');
  if (eps.length > MAX_SLICE_ENDPOINTS) errs.push(tooMany(epPath, eps.length, MAX_SLICE_ENDPOINTS));
  else {
    eps.forEach((ep, i) => {
      const p = epPath.index(i);
      const ap = p.child('addresses');
      const addrs = ep.addresses ?? [];
      if (addrs.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
      else if (addrs.length > MAX_ADDRESSES) errs.push(tooMany(ap, addrs.length, MAX_ADDRESSES));
      addrs.forEach((a, j) => errs.push(...validateSliceAddress(a, type, ap.index(j))));
      const topology = (ep as { deprecatedTopology?: Record<string, string> }).deprecatedTopology;
      const tp = p.child('deprecatedTopology');
      if (topology && Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(tp, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
      errs.push(...validateLabels(topology, tp));
      if (ep.hostname != null) errs.push(...dns1123Label(ep.hostname, p.child('hostname')));
    });
  }

  const ports = slice.ports ?? [];
  const portsPath = new FieldPath('ports');
  if (ports.length > MAX_SLICE_PORTS) errs.push(tooMany(portsPath, ports.length, MAX_SLICE_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = portsPath.index(i);
      const name = port.name ?? '';
      if (name) errs.push(...dns1123Label(name, p.child('name')));
      if (names.has(name)) errs.push(duplicate(p.child('name'), name));
      else names.add(name);
      if (port.protocol == null) errs.push(required(p.child('protocol'), ''));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, PROTOCOLS));
      if (port.appProtocol != null) errs.push(...isQualifiedName(port.appProtocol).map((m) => invalid(p.child('appProtocol'), port.appProtocol, m)));
    });
  }
  return errs;
}

export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  return validateSlice(slice, ADDRESS_TYPES);
}

export function validateEndpointSliceUpdate(slice: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = validateObjectMetaUpdate(slice.metadata, old.metadata);
  // ValidateEndpointSliceUpdate re-runs the create validation (metadata included) with IP allowed.
  const body = validateSlice(slice, [...ADDRESS_TYPES, ...DEPRECATED_ADDRESS_TYPES].sort()).filter((e) => !e.field.startsWith('metadata.'));
  errs.push(...body, ...validateImmutableField(slice.addressType, old.addressType, new FieldPath('addressType')));
  return errs;
}
