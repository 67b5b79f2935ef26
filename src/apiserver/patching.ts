// PATCH: decode the patch by its content type, apply it to the stored object, write it back.
import type { KubeObject } from '../api/types.ts';
import type { Registry } from '../registry/registry.ts';
import type { Store } from '../registry/store.ts';
import { unsupportedMediaType } from '../util/status.ts';

export interface PatchRequest {
  store: Store;
  registry: Registry;
  namespace: string | undefined;
  name: string;
  subresource: string;
  contentType: string;
  body: Buffer;
  query: URLSearchParams;
}

export async function applyPatch(p: PatchRequest): Promise<{ object: KubeObject; created: boolean; warnings: string[] }> {
  throw unsupportedMediaType(p.contentType);
}
