// Image reference normalisation as Docker and containerd's CRI do it, so that the names we tag our
// built-in images with are exactly what `kubectl run --image=busybox` resolves to.
// Pure; called by the image builders, the importer and the image pull policy.

export class ImageReferenceError extends Error {
  readonly code = 'ERR_IMAGE_REFERENCE';
  constructor(message: string) {
    super(message);
    this.name = 'ImageReferenceError';
  }
}

export interface ImageReference {
  /** Registry host, "docker.io" when none is given. */
  domain: string;
  /** Repository path inside the registry ("library/busybox"). */
  path: string;
  /** Tag, or undefined when the reference is by digest only. */
  tag?: string;
  /** "sha256:..." when the reference pins a digest. */
  digest?: string;
}

const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/**
 * Parses and normalises a reference: a first component with a "." or ":" or equal to "localhost"
 * is a registry host; otherwise docker.io is implied, and a single-component name gets "library/".
 * A missing tag becomes "latest" unless a digest is given.
 */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageReferenceError(`invalid digest in image reference "${ref}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageReferenceError(`invalid tag in image reference "${ref}"`);
  }
  if (rest === '') throw new ImageReferenceError(`invalid image reference "${ref}"`);
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0];
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    parts.shift();
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!REPO_COMPONENT.test(p)) throw new ImageReferenceError(`invalid repository name in image reference "${ref}"`);
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  const out: ImageReference = { domain, path: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** The fully qualified form: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeImageName(ref: string): string {
  const r = parseImageReference(ref);
  return `${r.domain}/${r.path}${r.tag !== undefined ? ':' + r.tag : ''}${r.digest !== undefined ? '@' + r.digest : ''}`;
}
