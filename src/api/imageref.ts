// Container image references ("nginx", "nginx:1.27", "registry:5000/team/app@sha256:…"), parsed as
// the docker distribution reference grammar that Kubernetes uses (ParseNormalizedNamed). Defaulting
// reads the tag to choose imagePullPolicy; the node agent uses the normalised name for CRI pulls.

export interface ImageReference {
  /** Registry host, "docker.io" when the reference names none. */
  readonly domain: string;
  /** Repository path within the registry ("library/nginx"). */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type ImageReferenceErrorCode = 'ERR_IMAGE_REFERENCE';

export class ImageReferenceError extends Error {
  readonly code: ImageReferenceErrorCode = 'ERR_IMAGE_REFERENCE';
  constructor(message: string) {
    super(message);
    this.name = 'ImageReferenceError';
  }
}

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const domainRe = new RegExp(`^${domainAndPort}$`);
const pathRe = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const NAME_TOTAL_LENGTH_MAX = 255;

/** Parses and normalises like ParseNormalizedNamed; throws ImageReferenceError. */
export function parseImageReference(image: string): ImageReference {
  if (image.length === 0) throw new ImageReferenceError('repository name must have at least one component');
  if (/^[a-f0-9]{64}$/.test(image)) throw new ImageReferenceError(`invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`);
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw new ImageReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw new ImageReferenceError('invalid reference format');
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (path.toLowerCase() !== path) throw new ImageReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  if (!domainRe.test(domain) || !pathRe.test(path)) throw new ImageReferenceError('invalid reference format');
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw new ImageReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/**
 * The tag Kubernetes sees in an image (parsers.ParseImageName): "latest" when neither a tag nor a
 * digest is given, "" for digest-only or unparsable references.
 */
export function imageTag(image: string): string {
  try {
    const ref = parseImageReference(image);
    if (ref.tag !== undefined) return ref.tag;
    return ref.digest !== undefined ? '' : 'latest';
  } catch (err) {
    if (err instanceof ImageReferenceError) return '';
    throw err;
  }
}

/** "nginx" → "docker.io/library/nginx:latest"; keeps digests. Throws ImageReferenceError. */
export function normalizeImage(image: string): string {
  const ref = parseImageReference(image);
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${ref.domain}/${ref.path}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
