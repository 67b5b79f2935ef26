// The kinds a CustomResourceDefinition defines: one KindDefinition per served version, built from the
// definition's data (names, scope, schema, subresources, printer columns, selectable fields), so
// custom resources go through the same store, pipeline, discovery, OpenAPI and tables as built-in
// kinds. Versions share one storage (conversion None: objects are stored in the storage version and
// read in the version asked for).

import { pruneAndDefault, validateCustomResource, type CustomResourceColumnDefinition, type CustomResourceDefinition, type CustomResourceDefinitionVersion, type JSONSchemaProps } from '../../../api/apiextensions/index.ts';
import { notSupported, objectMetaFields, type FieldLabelSet } from '../../../api/fields.ts';
import type { KubeObject } from '../../../api/types.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../../api/validation/meta.ts';
import type { FieldError } from '../../../api/field.ts';
import { defineKind, type KindDefinition, type SubresourceDefinition } from '../../kind.ts';
import { column, nameColumn } from '../../printing/columns.ts';
import { timestampSince } from '../../printing/duration.ts';
import type { TableCell, TablePrinter } from '../../printing/types.ts';
import { keepStatus, restFromOld, statusOnly, subdomainName } from '../../rules.ts';
import { getPath, parsePath, setPath, type PathStep } from './jsonpath.ts';

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first, then others by name. */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return { major: Number(m[1]), stage: m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0, minor: m[3] === undefined ? 0 : Number(m[3]) };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && pb) return pb.stage - pa.stage || pb.major - pa.major || pb.minor - pa.minor;
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The served kinds of a CRD, preferred version first, under its accepted names. */
export function customResourceKinds(crd: CustomResourceDefinition): KindDefinition[] {
  const spec = crd.spec;
  const names = crd.status?.acceptedNames?.plural ? crd.status.acceptedNames : spec.names;
  const storage = spec.versions.find((v) => v.storage)?.name;
  const served = spec.versions.filter((v) => v.served).sort((a, b) => compareKubeVersions(a.name, b.name));
  return served.map((v) =>
    customResourceKind({
      group: spec.group,
      version: v,
      plural: names.plural,
      singular: names.singular || names.kind.toLowerCase(),
      kind: names.kind,
      listKind: names.listKind || `${names.kind}List`,
      shortNames: names.shortNames,
      categories: names.categories,
      namespaced: spec.scope === 'Namespaced',
      storageVersion: storage,
    }),
  );
}

interface VersionParams {
  group: string;
  version: CustomResourceDefinitionVersion;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  storageVersion?: string;
}

function customResourceKind(p: VersionParams): KindDefinition {
  const v = p.version;
  const schema: JSONSchemaProps = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const hasStatus = !!v.subresources?.status;
  const metaRules = { namespaced: p.namespaced, nameFn: subdomainName, kubeFinalizers: false };
  const validateObject = (obj: KubeObject, old?: KubeObject): FieldError[] => [
    ...(old ? validateObjectMetaUpdate(obj.metadata, old.metadata, metaRules) : validateObjectMeta(obj.metadata, metaRules)),
    ...validateCustomResource(schema, obj, old ? { old } : {}),
  ];
  const subresources: Record<string, SubresourceDefinition> = {};
  if (hasStatus) subresources.status = { verbs: ['get', 'patch', 'update'], openapi: true, update: { prepareForUpdate: statusOnly, validateUpdate: (o, old) => validateObject(o, old) } };
  const scale = v.subresources?.scale;
  if (scale) subresources.scale = scaleSubresource(scale.specReplicasPath, scale.statusReplicasPath, scale.labelSelectorPath, (o, old) => validateObject(o, old));
  return defineKind<KubeObject>({
    identity: {
      group: p.group, version: v.name, resource: p.plural, singular: p.singular, kind: p.kind, listKind: p.listKind, namespaced: p.namespaced,
      ...(p.shortNames?.length ? { shortNames: p.shortNames } : {}),
      ...(p.categories?.length ? { categories: p.categories } : {}),
    },
    strategy: {
      prepareForCreate(obj) {
        // With a status subresource, status is written only through it (and starts empty).
        if (hasStatus) delete obj.status;
      },
      validate: (obj) => validateObject(obj),
      prepareForUpdate(obj, old) {
        if (hasStatus) keepStatus(obj, old);
      },
      validateUpdate: (obj, old) => validateObject(obj, old),
    },
    printer: printerFor(v.additionalPrinterColumns),
    fields: selectableFields(v.selectableFields?.map((f) => f.jsonPath) ?? [], p.namespaced),
    subresources,
    // kube-apiserver's custom resource storage does not create on PUT.
    createOnUpdate: false,
    schema: { openAPIV3: schema },
    storageVersion: p.storageVersion,
    normalize: (obj) => {
      pruneAndDefault(schema, obj, false);
    },
  });
}

function scaleSubresource(specPath: string, statusPath: string, selectorPath: string | undefined, validate: (obj: KubeObject, old: KubeObject) => FieldError[]): SubresourceDefinition {
  const spec = parsePath(specPath) ?? [];
  const status = parsePath(statusPath) ?? [];
  const selector = selectorPath ? parsePath(selectorPath) : undefined;
  return {
    verbs: ['get', 'patch', 'update'],
    kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    openapi: true,
    scale: {
      get(obj) {
        const replicas = getPath(obj, spec);
        const current = getPath(obj, status);
        const sel = selector ? getPath(obj, selector) : undefined;
        return {
          spec: typeof replicas === 'number' ? { replicas } : {},
          status: { replicas: typeof current === 'number' ? current : 0, ...(typeof sel === 'string' ? { selector: sel } : {}) },
        };
      },
      setReplicas(obj, replicas) {
        setPath(obj, spec, replicas);
      },
    },
    // A scale write changes the replicas at specReplicasPath and nothing else.
    update: {
      prepareForUpdate(obj, old) {
        const replicas = getPath(obj, spec);
        restFromOld(obj, old);
        // `old` is shared and read-only: the part the replicas live in is copied before it is written.
        const top = String(spec[0]);
        if (old[top] !== undefined) obj[top] = structuredClone(old[top]);
        if (replicas !== undefined) setPath(obj, spec, replicas);
      },
      // The object with its new replicas must still satisfy the schema (maximum, CEL rules...).
      validateUpdate: validate,
    },
  };
}

/** Table columns from additionalPrinterColumns (Name and Age when there are none), as kube-apiserver builds them. */
function printerFor(cols: CustomResourceColumnDefinition[] | undefined): TablePrinter | undefined {
  if (!cols?.length) return undefined;
  const paths = cols.map((c) => parsePath(c.jsonPath));
  return {
    columns: [nameColumn(), ...cols.map((c) => column(c.name, c.description ?? '', { type: c.type, format: c.format ?? '', priority: c.priority ?? 0 }))],
    print(obj: KubeObject, now: number) {
      const cells: TableCell[] = [obj.metadata?.name ?? ''];
      cols.forEach((c, i) => {
        const path = paths[i];
        const v = path ? getPath(obj, path) : undefined;
        cells.push(cell(c, v, now));
      });
      return { cells };
    },
  };
}

/** A printer-column value as kube-apiserver puts it in a Table cell (null when the path finds nothing). */
function cell(c: CustomResourceColumnDefinition, v: unknown, now: number): TableCell {
  if (v === undefined || v === null) return null;
  switch (c.type) {
    case 'date':
      // Dates are shown as ages, computed by the server (kubectl prints the cell as it comes).
      return timestampSince(v, now);
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    default:
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  }
}

function selectableFields(jsonPaths: string[], namespaced: boolean) {
  const fields = jsonPaths.map((jp) => ({ label: jp.replace(/^\./, ''), path: parsePath(jp) ?? ([] as PathStep[]) }));
  const labels: FieldLabelSet = {
    supported: new Set(['metadata.name', 'metadata.namespace', ...fields.map((f) => f.label)]),
    unsupported: notSupported,
  };
  return {
    labels,
    of(obj: KubeObject): Record<string, string> {
      const out = objectMetaFields(obj.metadata, namespaced);
      for (const f of fields) {
        const v = getPath(obj, f.path);
        out[f.label] = v === undefined || v === null ? '' : String(v);
      }
      return out;
    },
  };
}

