// Byte progress of image pulls, which CRI does not report: containerd's content service lists the
// blobs being downloaded ("ingests", refs like "layer-sha256:…") with bytes written and expected.
// Ingests are not tied to an image, so the figures cover every pull in progress on this containerd
// (the kubelet's pulls are mostly one image at a time per node; several at once add up).
//
// Called by ensureImage (via its progressSource option) once per progress tick; one IngestProgress
// per containerd, shared by all pulls; per-pull tallies come from `tracker()`.
import * as grpc from '@grpc/grpc-js';
import { GrpcMethods } from '../cri/grpc-methods.ts';
import { CONTAINERD_CONTENT } from './content.descriptor.ts';
import { K8S_NAMESPACE } from './import.ts';

const methods = new GrpcMethods(CONTAINERD_CONTENT, { longs: Number, defaults: true, arrays: true });

export interface Ingest {
  ref: string;
  offset: number;
  total: number;
}

export class IngestProgress {
  readonly #client: grpc.Client;

  constructor(socket: string) {
    this.#client = new grpc.Client(socket.startsWith('unix:') ? socket : `unix://${socket}`, grpc.credentials.createInsecure());
  }

  /** Downloads in progress in the k8s.io namespace (where CRI pulls). */
  ingests(timeoutMs = 2000): Promise<Ingest[]> {
    const m = methods.unary<object, { statuses?: Ingest[] }>('containerd.services.content.v1.Content', 'ListStatuses')!;
    const md = new grpc.Metadata();
    md.set('containerd-namespace', K8S_NAMESPACE);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest<object, { statuses?: Ingest[] }>(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        { filters: [] },
        md,
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve((res?.statuses ?? []).map((s) => ({ ref: s.ref, offset: Number(s.offset), total: Number(s.total) })))),
      );
    });
  }

  /**
   * A progress source for one pull: bytes so far and bytes expected, over the blobs seen since it was
   * made. A blob that leaves the list was committed, so it counts as complete; the figures only grow.
   */
  tracker(): () => Promise<{ bytes: number; totalBytes: number } | undefined> {
    const seen = new Map<string, { offset: number; total: number }>();
    return async () => {
      const now = await this.ingests();
      const live = new Set(now.map((i) => i.ref));
      for (const [ref, s] of seen) if (!live.has(ref) && s.total > 0) s.offset = s.total;
      for (const i of now) {
        const prev = seen.get(i.ref);
        seen.set(i.ref, { offset: Math.max(prev?.offset ?? 0, i.offset), total: Math.max(prev?.total ?? 0, i.total) });
      }
      if (seen.size === 0) return undefined;
      let bytes = 0;
      let totalBytes = 0;
      for (const s of seen.values()) {
        bytes += s.offset;
        totalBytes += s.total;
      }
      return { bytes, totalBytes };
    };
  }

  close(): void {
    this.#client.close();
  }
}
