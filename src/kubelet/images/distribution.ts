// Pushing an OCI image archive (as ./oci.ts builds it) to a registry over the OCI distribution API:
// blobs first (skipped when the registry has them), then the manifest under a tag. Enough for
// seeding a local registry in tests and air-gapped set-ups without docker, skopeo or crane; Basic
// authentication only (what docker-registry's htpasswd mode speaks).
//
// Called by tests and tools, one push at a time per target; pushing again is harmless.
import { readTar } from './tar.ts';
import { parseImageReference } from './reference.ts';
import { isLocalhost } from './registries/endpoints.ts';

export class RegistryPushError extends Error {
  readonly code = 'ERR_REGISTRY_PUSH_FAILED';
  readonly status: number;
  constructor(message: string, status = 0) {
    super(message);
    this.name = 'RegistryPushError';
    this.status = status;
  }
}

export interface PushOptions {
  username?: string;
  password?: string;
  /** Plain HTTP; the default for localhost registries, as containerd does. */
  plainHttp?: boolean;
}

export interface PushResult {
  manifestDigest: string;
  /** Blobs uploaded (ones the registry already had are not counted). */
  uploaded: number;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

/** Pushes the first image of an OCI archive to `target` ("127.0.0.1:5000/tools/busybox:v1"). */
export async function pushOciArchive(archive: Buffer, target: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseImageReference(target);
  if (!ref.tag) throw new RegistryPushError(`push target ${target} needs a tag`);
  const files = new Map<string, Buffer>();
  for (const m of readTar(archive)) if (m.typeflag === '0' || m.typeflag === '\0') files.set(m.path, m.data);
  const blob = (digest: string): Buffer => {
    const b = files.get(`blobs/${digest.replace(':', '/')}`);
    if (!b) throw new RegistryPushError(`archive lacks blob ${digest}`);
    return b;
  };
  const index = obj(JSON.parse(files.get('index.json')?.toString('utf8') ?? '{}'));
  const desc = obj((Array.isArray(index.manifests) ? index.manifests : [])[0]);
  const manifestDigest = typeof desc.digest === 'string' ? desc.digest : '';
  if (!manifestDigest) throw new RegistryPushError('archive has no manifest in index.json');
  const manifestBytes = blob(manifestDigest);
  const manifest = obj(JSON.parse(manifestBytes.toString('utf8')));
  const mediaType = typeof manifest.mediaType === 'string' ? manifest.mediaType : 'application/vnd.oci.image.manifest.v1+json';
  const digests = [obj(manifest.config).digest, ...(Array.isArray(manifest.layers) ? manifest.layers.map((l) => obj(l).digest) : [])].filter((d): d is string => typeof d === 'string');

  const scheme = (opts.plainHttp ?? isLocalhost(ref.domain)) ? 'http' : 'https';
  const base = `${scheme}://${ref.domain}/v2/${ref.path}`;
  const headers: Record<string, string> = {};
  if (opts.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  const call = async (method: string, url: string, body?: Buffer, extra: Record<string, string> = {}): Promise<Response> => {
    try {
      return await fetch(url, { method, headers: { ...headers, ...extra }, body: body ? new Uint8Array(body) : undefined });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new RegistryPushError(`${method} ${url}: ${cause instanceof Error ? cause.message : (err as Error).message}`);
    }
  };
  const check = async (res: Response, what: string, ok: number[]): Promise<void> => {
    if (ok.includes(res.status)) {
      await res.arrayBuffer().catch(() => undefined); // frees the keep-alive connection
      return;
    }
    const text = (await res.text().catch(() => '')).trim().slice(0, 300);
    throw new RegistryPushError(`${what}: HTTP ${res.status}${text ? `: ${text}` : ''}`, res.status);
  };

  let uploaded = 0;
  for (const d of digests) {
    const head = await call('HEAD', `${base}/blobs/${d}`);
    if (head.status === 200) continue;
    if (head.status !== 404) await check(head, `checking blob ${d}`, [200, 404]);
    const start = await call('POST', `${base}/blobs/uploads/`);
    await check(start, `starting upload of ${d}`, [202]);
    const location = new URL(start.headers.get('location') ?? '', `${scheme}://${ref.domain}`);
    location.searchParams.set('digest', d);
    const put = await call('PUT', location.toString(), blob(d), { 'content-type': 'application/octet-stream' });
    await check(put, `uploading ${d}`, [201, 204]);
    uploaded++;
  }
  const res = await call('PUT', `${base}/manifests/${ref.tag}`, manifestBytes, { 'content-type': mediaType });
  await check(res, `putting manifest ${ref.domain}/${ref.path}:${ref.tag}`, [201, 204]);
  return { manifestDigest, uploaded };
}
