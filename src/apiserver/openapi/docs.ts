// Field descriptions and required-ness for the OpenAPI documents, read at runtime from the JSDoc of
// our dependencies' type declarations. The text is the Kubernetes API's own documentation (data of
// packages we install); it is never copied into this repository.
//
// Primary source: @kubernetes/client-node `dist/gen/models/<Name>.d.ts` (one class per model; a
// property without `?` is required). Its generator drops the description of fields whose type is
// another model (`'livenessProbe'?: V1Probe;` carries none), so for those we fall back to the
// interfaces of `kubernetes-types` (`core/v1.d.ts`...), when that package is installed.
//
// Called only while building the OpenAPI documents (once per process); synchronous; results cached.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModel, modelsDirectory } from '../../api/models.ts';

export interface TypeDocs {
  description?: string;
  /** Keyed by JSON field name. */
  fields: Map<string, FieldDocs>;
}

export interface FieldDocs {
  description?: string;
  required: boolean;
}

const modelDocsCache = new Map<string, TypeDocs>();

/** Descriptions of a client-node model (`V1Probe`) and its fields, keyed by JSON field name. */
export function modelDocs(typeName: string): TypeDocs {
  let docs = modelDocsCache.get(typeName);
  if (!docs) {
    docs = readModelDocs(typeName);
    modelDocsCache.set(typeName, docs);
  }
  return docs;
}

function readModelDocs(typeName: string): TypeDocs {
  const docs: TypeDocs = { fields: new Map() };
  let text: string;
  try {
    text = readFileSync(join(modelsDirectory(), `${typeName}.d.ts`), 'utf8');
  } catch {
    return docs;
  }
  const classAt = text.indexOf('export declare class ');
  if (classAt < 0) return docs;
  const head = text.slice(0, classAt);
  const lastDoc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*$/.exec(head);
  if (lastDoc) docs.description = cleanDoc(lastDoc[1]);
  // client-node properties use the TypeScript name (`_default` for `default`); map to JSON names.
  const jsonName = new Map<string, string>();
  const model = getModel(typeName);
  if (model) for (const f of model.fields.values()) jsonName.set(f.property, f.name);
  const body = text.slice(classAt);
  const prop = /(?:^ {4}\/\*\*\n((?:(?!\*\/)[\s\S])*?)\n {4}\*\/\n)?^ {4}'([^']+)'(\?)?:/gm;
  for (let m = prop.exec(body); m; m = prop.exec(body)) {
    const name = jsonName.get(m[2]) ?? m[2];
    const fd: FieldDocs = { required: m[3] !== '?' };
    if (m[1]) fd.description = cleanDoc(m[1]);
    docs.fields.set(name, fd);
  }
  return docs;
}

/** Strips JSDoc line prefixes and the generator's escapes; keeps paragraph breaks. */
function cleanDoc(raw: string): string {
  return raw
    .split('\n')
    .map((l) => l.replace(/^\s*\*(?: |$)/, '').trimEnd())
    .join('\n')
    .replace(/\\(['"\\])/g, '$1')
    .trim();
}

// --- kubernetes-types fallback ---------------------------------------------------------------------

const fallbackFiles = new Map<string, Map<string, TypeDocs> | null>();
let typesRoot: string | null | undefined;

function kubernetesTypesRoot(): string | null {
  if (typesRoot === undefined) {
    try {
      typesRoot = dirname(fileURLToPath(import.meta.resolve('kubernetes-types/package.json')));
    } catch {
      typesRoot = null;
    }
  }
  return typesRoot;
}

/**
 * Docs from kubernetes-types for a declaration: `file` is the package-relative module (`core/v1`,
 * `meta/v1`, `api/resource`), `name` the interface or type alias. Undefined when unavailable.
 */
export function fallbackDocs(file: string, name: string): TypeDocs | undefined {
  let parsed = fallbackFiles.get(file);
  if (parsed === undefined) {
    parsed = readFallback(file);
    fallbackFiles.set(file, parsed);
  }
  return parsed?.get(name);
}

function readFallback(file: string): Map<string, TypeDocs> | null {
  const root = kubernetesTypesRoot();
  if (!root || !/^[a-z0-9]+\/[a-z0-9]+$/.test(file)) return null;
  let text: string;
  try {
    text = readFileSync(join(root, `${file}.d.ts`), 'utf8');
  } catch {
    return null;
  }
  const out = new Map<string, TypeDocs>();
  const decl = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\n)?export (interface|type) (\w+)/g;
  for (let m = decl.exec(text); m; m = decl.exec(text)) {
    const docs: TypeDocs = { fields: new Map() };
    if (m[1]) docs.description = cleanDoc(m[1]);
    if (m[2] === 'interface') {
      const start = decl.lastIndex;
      const end = text.indexOf('\n}', start);
      const body = text.slice(start, end < 0 ? undefined : end);
      const prop = /(?:^ {4}\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\n)?^ {4}(\w+)(\?)?:/gm;
      for (let p = prop.exec(body); p; p = prop.exec(body)) {
        const fd: FieldDocs = { required: p[3] !== '?' };
        if (p[1]) fd.description = cleanDoc(p[1]);
        docs.fields.set(p[2], fd);
      }
    }
    out.set(m[3], docs);
  }
  return out;
}
