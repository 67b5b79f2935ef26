// The PodSecurity plugin's configuration (pod-security.admission.config.k8s.io PodSecurityConfiguration,
// v1 and the older v1beta1/v1alpha1): the policy of unlabelled namespaces and who is exempt. Decoded,
// defaulted (every mode privileged:latest) and validated as k8s.io/pod-security-admission
// admission/api does it (v1/defaults.go, validation/validation.go), with its messages. Pure; called
// once at start through the AdmissionConfiguration reader (config.ts).

import { duplicate, fieldErrorMessage, FieldPath, invalid, required, type FieldError } from '../../api/field.ts';
import { LATEST, LEVELS, MODES, parseLevel, parseVersion, type Mode, type Policy } from '../../api/podsecurity/policy.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../../api/validation/names.ts';
import { decodeDocument, goType, isObject, type Decoded } from './config-decode.ts';
import { DEFAULT_POD_SECURITY_CONFIGURATION, type PodSecurityConfiguration } from './pod-security.ts';

const GROUP_VERSIONS = ['pod-security.admission.config.k8s.io/v1', 'pod-security.admission.config.k8s.io/v1beta1', 'pod-security.admission.config.k8s.io/v1alpha1'];

/** The fields kube's validation walks, in its order. */
const DEFAULT_FIELDS: ReadonlyArray<[Mode, 'level' | 'version', string]> = [
  ['enforce', 'level', 'enforce'],
  ['enforce', 'version', 'enforce-version'],
  ['warn', 'level', 'warn'],
  ['warn', 'version', 'warn-version'],
  ['audit', 'level', 'audit'],
  ['audit', 'version', 'audit-version'],
];

/**
 * The configuration from its decoded document; undefined (no `configuration` and no `path`) is
 * kube's default configuration. An error reads as kube's ValidateConfiguration / decode error.
 */
export function parsePodSecurityConfiguration(doc: unknown): Decoded<PodSecurityConfiguration> {
  if (doc === undefined || doc === null) return { ok: true, value: DEFAULT_POD_SECURITY_CONFIGURATION, warnings: [] };
  const decoded = decodeDocument(doc, 'PodSecurityConfiguration', GROUP_VERSIONS);
  if (!decoded.ok) return decoded;
  const d = decoded.value;
  const warnings: string[] = [];
  unknownFields(d, ['apiVersion', 'kind', 'defaults', 'exemptions'], '', warnings);
  const defaults = d.defaults ?? {};
  if (!isObject(defaults)) return typeError(defaults, 'PodSecurityConfiguration.defaults', 'v1.PodSecurityDefaults');
  unknownFields(defaults, DEFAULT_FIELDS.map((f) => f[2]), 'defaults.', warnings);
  const exemptions = d.exemptions ?? {};
  if (!isObject(exemptions)) return typeError(exemptions, 'PodSecurityConfiguration.exemptions', 'v1.PodSecurityExemptions');
  unknownFields(exemptions, ['usernames', 'namespaces', 'runtimeClasses'], 'exemptions.', warnings);

  const raw: Record<string, string> = {};
  for (const [, , field] of DEFAULT_FIELDS) {
    const v = defaults[field];
    if (v !== undefined && v !== null && typeof v !== 'string') return typeError(v, `PodSecurityDefaults.defaults.${field}`, 'string');
    // SetDefaults_PodSecurityDefaults: an empty level is privileged, an empty version latest.
    raw[field] = typeof v === 'string' && v !== '' ? v : field.endsWith('-version') ? 'latest' : 'privileged';
  }
  const lists: Record<'usernames' | 'namespaces' | 'runtimeClasses', string[]> = { usernames: [], namespaces: [], runtimeClasses: [] };
  for (const key of Object.keys(lists) as Array<keyof typeof lists>) {
    const v = exemptions[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) return typeError(v, `PodSecurityExemptions.exemptions.${key}`, '[]string');
    const bad = v.find((x) => typeof x !== 'string');
    if (bad !== undefined) return typeError(bad, `PodSecurityExemptions.exemptions.${key}`, 'string');
    lists[key] = v as string[];
  }

  const errs = validate(raw, lists);
  if (errs.length) {
    const parts = errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
    return { ok: false, error: `PodSecurity invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}` };
  }
  const policy = { enforce: {}, audit: {}, warn: {} } as Policy;
  for (const mode of MODES) {
    policy[mode] = { level: parseLevel(raw[mode]!)!, version: parseVersion(raw[`${mode}-version`]!) ?? LATEST };
  }
  return { ok: true, value: { defaults: policy, exemptions: lists }, warnings };
}

/** ValidatePodSecurityConfiguration. */
function validate(raw: Record<string, string>, lists: Record<'usernames' | 'namespaces' | 'runtimeClasses', string[]>): FieldError[] {
  const errs: FieldError[] = [];
  const defaultsPath = new FieldPath('defaults');
  for (const [, what, field] of DEFAULT_FIELDS) {
    const v = raw[field]!;
    if (what === 'level' && !parseLevel(v)) errs.push(invalid(defaultsPath.child(field), v, `must be one of ${LEVELS.join(', ')}`));
    if (what === 'version' && !parseVersion(v)) errs.push(invalid(defaultsPath.child(field), v, 'must be "latest" or "v1.x"'));
  }
  const exemptionsPath = new FieldPath('exemptions');
  const unique = (key: 'usernames' | 'namespaces' | 'runtimeClasses', check: (v: string, p: FieldPath) => FieldError | undefined) => {
    const seen = new Set<string>();
    lists[key].forEach((v, i) => {
      const p = exemptionsPath.child(key).index(i);
      const bad = check(v, p);
      if (bad) errs.push(bad);
      else if (seen.has(v)) errs.push(duplicate(p, v));
      else seen.add(v);
    });
  };
  unique('namespaces', (v, p) => {
    const msgs = isDNS1123Label(v);
    return msgs.length ? invalid(p, v, msgs.join(', ')) : undefined;
  });
  unique('runtimeClasses', (v, p) => {
    const msgs = isDNS1123Subdomain(v);
    return msgs.length ? invalid(p, v, msgs.join(', ')) : undefined;
  });
  unique('usernames', (v, p) => (v === '' ? required(p, '') : undefined));
  return errs;
}

function typeError(v: unknown, field: string, goTypeName: string): Decoded<never> {
  return { ok: false, error: `json: cannot unmarshal ${goType(v)} into Go struct field ${field} of type ${goTypeName}` };
}

/** kube's decoder is lenient: unknown fields are dropped; we say which. */
function unknownFields(obj: Record<string, unknown>, known: readonly string[], prefix: string, warnings: string[]): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) warnings.push(`unknown field ${JSON.stringify(prefix + k)}`);
}
