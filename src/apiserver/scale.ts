// The scale subresource (GET, PUT, PATCH of an autoscaling/v1 Scale) of any kind whose definition has
// one: custom resources with subresources.scale today, Deployments and their kin later. The Scale is
// made from the object and a write changes only the object's replicas, through the kind's own
// scale strategy, in one guaranteed update.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidError } from '../api/field.ts';
import type { KubeObject } from '../api/types.ts';
import type { Scale, ScaleAccess } from '../registry/kind.ts';
import type { Store, WriteAdmission } from '../registry/store.ts';
import { conflict, methodNotAllowed } from '../util/status.ts';
import { modelSchema } from './patch/schema.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, decodePatchBody, patchTypeOf } from './patch/index.ts';
import { readBody, writeJSON } from './respond.ts';
import { readSubresourceBody } from './subresources.ts';

const SCALE_GVK = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

export interface ScaleRequest {
  req: IncomingMessage;
  res: ServerResponse;
  store: Store;
  access: ScaleAccess<KubeObject>;
  namespace: string | undefined;
  name: string;
  dryRun: boolean;
  admission: WriteAdmission;
}

export function scaleOf(obj: KubeObject, access: ScaleAccess<KubeObject>): Scale {
  const m = obj.metadata ?? {};
  const { spec, status } = access.get(obj);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec,
    status,
  };
}

export async function serveScale(r: ScaleRequest): Promise<void> {
  const { req, res, store, access } = r;
  const write = async (replicasOf: (scale: Scale) => { replicas: unknown; resourceVersion?: string }) => {
    const updated = await store.guaranteedUpdate(r.namespace, r.name, (cur) => {
      const want = replicasOf(scaleOf(cur, access));
      if (want.resourceVersion && want.resourceVersion !== cur.metadata?.resourceVersion) throw conflict(store.qualifiedResource, r.name);
      const replicas = want.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        const detail = typeof replicas === 'number' && Number.isInteger(replicas) ? 'must be greater than or equal to 0' : 'must be an integer';
        throw invalidError('Scale', r.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', badValue: replicas === undefined ? 'null' : JSON.stringify(replicas), detail }], 'autoscaling');
      }
      access.setReplicas(cur, replicas);
      return cur;
    }, { subresource: 'scale', dryRun: r.dryRun, admission: r.admission, retryConflicts: true });
    writeJSON(req, res, 200, scaleOf(updated, access));
  };
  switch (req.method) {
    case 'GET':
      return writeJSON(req, res, 200, scaleOf(await store.get(r.namespace, r.name), access));
    case 'PUT': {
      const body = await readSubresourceBody(req, SCALE_GVK);
      const spec = (body.spec ?? {}) as { replicas?: unknown };
      const rv = (body.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
      return write(() => ({ replicas: spec.replicas ?? 0, resourceVersion: typeof rv === 'string' && rv ? rv : undefined }));
    }
    case 'PATCH': {
      const type = patchTypeOf(String(req.headers['content-type'] ?? ''));
      if (type === 'apply') throw methodNotAllowed();
      const patch = decodePatchBody(type, await readBody(req));
      return write((scale) => {
        const next = (type === 'json' ? applyJsonPatch(scale, patch) : type === 'merge' ? applyMergePatch(scale, patch) : applyStrategicMergePatch(scale, patch, modelSchema, 'V1Scale')) as Scale;
        return { replicas: next.spec?.replicas, resourceVersion: next.metadata?.resourceVersion !== scale.metadata.resourceVersion ? next.metadata?.resourceVersion : undefined };
      });
    }
    default:
      throw methodNotAllowed();
  }
}
