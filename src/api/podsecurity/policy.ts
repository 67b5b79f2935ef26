// Pod Security levels, policy versions and the namespace labels that choose them
// (k8s.io/pod-security-admission/api): `pod-security.kubernetes.io/<mode>` names a level,
// `pod-security.kubernetes.io/<mode>-version` a policy version ("latest" or "v1.X").

import { FieldPath, invalid, type FieldError } from '../field.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: a Kubernetes minor (1.X), or the newest checks this server knows. */
export type Version = { latest: true } | { latest: false; minor: number };
export const LATEST: Version = { latest: true };

export interface LevelVersion {
  level: Level;
  version: Version;
}

/** What a namespace asks for, per mode. */
export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

export type Mode = keyof Policy;
export const MODES: readonly Mode[] = ['enforce', 'audit', 'warn'];

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const levelLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}`;
export const versionLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}-version`;

/** The policy of a namespace without labels (PodSecurityConfiguration's defaults). */
export const PRIVILEGED_POLICY: Policy = {
  enforce: { level: 'privileged', version: LATEST },
  audit: { level: 'privileged', version: LATEST },
  warn: { level: 'privileged', version: LATEST },
};

export function versionString(v: Version): string {
  return v.latest ? 'latest' : `v1.${v.minor}`;
}

/** "restricted:latest", as kube prints a level and version. */
export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${versionString(lv.version)}`;
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && versionString(a.version) === versionString(b.version);
}

/** -1, 0 or 1 as level a is less strict than, as strict as, or stricter than b (api.CompareLevels). */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

export function parseLevel(s: string): Level | undefined {
  return (LEVELS as readonly string[]).includes(s) ? (s as Level) : undefined;
}

export function parseVersion(s: string): Version | undefined {
  if (s === 'latest') return LATEST;
  const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const minor = Number(m[1]);
  return Number.isSafeInteger(minor) ? { latest: false, minor } : undefined;
}

const labelsPath = new FieldPath('metadata').child('labels');

/**
 * The policy a namespace's labels ask for, over the defaults, and what is wrong with its labels
 * (api.PolicyToEvaluate): a bad enforce level is taken as restricted (fail closed), a bad audit
 * or warn level as privileged (fail open), a bad version as latest. Since 1.26 an enforce label
 * without a warn label also warns at the enforce level (and version, unless warn-version is set),
 * so workload resources, which are never refused, still get warnings.
 */
export function policyToEvaluate(labels: Record<string, string> | undefined, defaults: Policy = PRIVILEGED_POLICY): { policy: Policy; errors: FieldError[] } {
  const policy: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: FieldError[] = [];
  if (!labels) return { policy, errors };
  for (const mode of MODES) {
    const level = labels[levelLabel(mode)];
    if (level !== undefined) {
      const parsed = parseLevel(level);
      if (!parsed) errors.push(invalid(labelsPath.key(levelLabel(mode)), level, `must be one of ${LEVELS.join(', ')}`));
      policy[mode].level = parsed ?? (mode === 'enforce' ? 'restricted' : 'privileged');
    }
    const version = labels[versionLabel(mode)];
    if (version !== undefined) {
      const parsed = parseVersion(version);
      if (!parsed) errors.push(invalid(labelsPath.key(versionLabel(mode)), version, 'must be "latest" or "v1.x"'));
      policy[mode].version = parsed ?? LATEST;
    }
  }
  if (labels[levelLabel('enforce')] !== undefined && labels[levelLabel('warn')] === undefined && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (labels[versionLabel('warn')] === undefined) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}
