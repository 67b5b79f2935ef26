// A list/watch that keeps only what the garbage collector reads (identity, owner references,
// finalizers, deletionTimestamp), so watching every resource does not keep a second copy of every
// object's spec and status in memory. The objects still cross the wire whole: the server has no
// metadata-only watch yet (Kubernetes' collector asks for PartialObjectMetadata).

import type { KubeObject } from '../../api/types.ts';
import type { ListerWatcher } from '../../client/informer.ts';
import type { WatchEvent } from '../../client/watch.ts';
import type { ObjectMetaView } from './graph.ts';

export function metadataView(obj: KubeObject): ObjectMetaView {
  const m = obj.metadata ?? {};
  const meta: NonNullable<ObjectMetaView['metadata']> = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
  if (m.ownerReferences?.length) meta.ownerReferences = m.ownerReferences;
  if (m.finalizers?.length) meta.finalizers = m.finalizers;
  if (m.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: meta };
}

export function metadataOnly(lw: ListerWatcher<KubeObject>): ListerWatcher<ObjectMetaView> {
  return {
    async list(options) {
      const l = await lw.list(options);
      return { ...l, items: (l.items ?? []).map(metadataView) };
    },
    async watch(options) {
      const w = await lw.watch(options);
      return {
        close: () => w.close(),
        async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<ObjectMetaView>> {
          for await (const ev of w) {
            if (ev.type === 'ERROR') yield ev;
            else yield { type: ev.type, object: metadataView(ev.object) };
          }
        },
      };
    },
  };
}
