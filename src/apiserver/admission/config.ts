// kube-apiserver's --admission-control-config-file: an apiserver.config.k8s.io/v1 AdmissionConfiguration
// (YAML or JSON) whose `plugins` list gives each plugin its configuration, inline (`configuration`) or
// in a file of its own (`path`, relative to the AdmissionConfiguration's folder), as
// k8s.io/apiserver pkg/admission/config.go reads it. Read once at start by cmd/ (loadAdmissionConfig);
// any error stops the start with an AdmissionConfigError naming the file and the field.
//
// Which plugins take a configuration, and how each is decoded, is listed in PLUGIN_CONFIG_READERS.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeDocument, goType, isObject, parseText, type Decoded } from './config-decode.ts';
import { parsePodSecurityConfiguration } from './pod-security-config.ts';
import type { PodSecurityConfiguration } from './pod-security.ts';

/** Per-plugin configurations the admission chain is built with; absent = the plugin's default. */
export interface AdmissionPluginConfigs {
  podSecurity?: PodSecurityConfiguration;
}

export class AdmissionConfigError extends Error {
  readonly code = 'ERR_ADMISSION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'AdmissionConfigError';
  }
}

/**
 * The plugins that read a configuration, by kube's plugin name. kube-apiserver reads a plugin's entry
 * only when it initialises that plugin, so entries for plugins it does not have or does not enable,
 * and for plugins that take no configuration, are ignored without a word: tinykube does the same.
 */
const PLUGIN_CONFIG_READERS: Record<string, (doc: unknown, configs: AdmissionPluginConfigs) => Decoded<AdmissionPluginConfigs>> = {
  PodSecurity: (doc, configs) => {
    const r = parsePodSecurityConfiguration(doc);
    return r.ok ? { ok: true, value: { ...configs, podSecurity: r.value }, warnings: r.warnings } : r;
  },
};

/**
 * Plugins kube-apiserver enables by default and configures from their entry, which tinykube does not
 * have. kube would apply such an entry (a ResourceQuota's limitedResources, the webhooks'
 * credentials); ignoring it would leave the policy it states silently unenforced, so it stops the
 * start instead.
 */
const CONFIGURED_IN_KUBE_ONLY = new Set(['ResourceQuota', 'MutatingAdmissionWebhook', 'ValidatingAdmissionWebhook']);

const ADMISSION_GROUP_VERSIONS = ['apiserver.config.k8s.io/v1', 'apiserver.config.k8s.io/v1alpha1', 'apiserver.k8s.io/v1alpha1'];

/** Reads and decodes the file; `warn` receives unknown-field notes. */
export function loadAdmissionConfig(file: string, warn: (msg: string) => void = (m) => console.error(`tinykube: ${m}`)): AdmissionPluginConfigs {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AdmissionConfigError(`unable to read admission control configuration from ${JSON.stringify(file)} [${(err as Error).message}]`);
  }
  const r = parseAdmissionConfig(text, path.dirname(path.resolve(file)), (p) => readFileSync(p, 'utf8'));
  if (!r.ok) throw new AdmissionConfigError(`--admission-control-config-file ${file}: ${r.error}`);
  for (const w of r.warnings) warn(`${w} (in ${file})`);
  return r.value;
}

/** Decodes an AdmissionConfiguration document; plugin files (`path`) are read through `readFile`, relative to `baseDir`. */
export function parseAdmissionConfig(text: string, baseDir: string, readFile: (file: string) => string): Decoded<AdmissionPluginConfigs> {
  const doc = decodeDocument(text, 'AdmissionConfiguration', ADMISSION_GROUP_VERSIONS);
  if (!doc.ok) return doc;
  const warnings: string[] = [];
  const d = doc.value;
  for (const k of Object.keys(d)) if (!['apiVersion', 'kind', 'plugins'].includes(k)) warnings.push(`unknown field ${JSON.stringify(k)}`);
  if (d.plugins !== undefined && d.plugins !== null && !Array.isArray(d.plugins)) {
    return { ok: false, error: `json: cannot unmarshal ${goType(d.plugins)} into Go struct field AdmissionConfiguration.plugins of type []v1.AdmissionPluginConfiguration` };
  }
  let configs: AdmissionPluginConfigs = {};
  const seen = new Set<string>();
  for (const [i, raw] of ((d.plugins as unknown[] | undefined) ?? []).entries()) {
    const where = `plugins[${i}]`;
    if (!isObject(raw)) return { ok: false, error: `${where}: json: cannot unmarshal ${goType(raw)} into Go value of type v1.AdmissionPluginConfiguration` };
    for (const [field, want] of [['name', 'string'], ['path', 'string']] as const) {
      if (raw[field] !== undefined && typeof raw[field] !== want) return { ok: false, error: `${where}.${field}: json: cannot unmarshal ${goType(raw[field])} into Go struct field AdmissionPluginConfiguration.plugins.${field} of type string` };
    }
    for (const k of Object.keys(raw)) if (!['name', 'path', 'configuration'].includes(k)) warnings.push(`unknown field ${JSON.stringify(`${where}.${k}`)}`);
    const name = (raw.name as string | undefined) ?? '';
    if (CONFIGURED_IN_KUBE_ONLY.has(name)) {
      return { ok: false, error: `${where}: admission plugin ${JSON.stringify(name)} is enabled by kube-apiserver, which would apply this configuration, but tinykube does not have it; remove the entry` };
    }
    const reader = PLUGIN_CONFIG_READERS[name];
    if (!reader) continue;
    // kube's ConfigFor takes the first entry of a name.
    if (seen.has(name)) continue;
    seen.add(name);
    let pluginDoc: unknown;
    if (raw.configuration !== undefined && raw.configuration !== null) pluginDoc = raw.configuration;
    else if (raw.path) {
      const file = path.resolve(baseDir, raw.path as string);
      let pluginText: string;
      try {
        pluginText = readFile(file);
      } catch (err) {
        return { ok: false, error: `${where}.path: couldn't open admission plugin configuration ${file}: ${(err as Error).message}` };
      }
      const parsed = parseText(pluginText);
      if (!parsed.ok) return { ok: false, error: `${where}.path ${file}: ${parsed.error}` };
      pluginDoc = parsed.value;
    } else pluginDoc = undefined;
    const r = reader(pluginDoc, configs);
    // kube's Plugins.InitPlugin / ValidateInitialization wrap the plugin's own error so.
    if (!r.ok) return { ok: false, error: `${where}: failed to initialize admission plugin ${JSON.stringify(name)}: ${r.error}` };
    warnings.push(...r.warnings.map((w) => `${where}.configuration: ${w}`));
    configs = r.value;
  }
  return { ok: true, value: configs, warnings };
}
