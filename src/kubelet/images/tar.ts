// A minimal ustar writer and reader, enough for OCI image layers and OCI layout archives.
// Called by the image builders (write) and the importer (read index.json / manifests back).
// Pure functions over Buffers: the archives we handle are a few MiB at most.

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface TarEntry {
  /** Relative path without a leading "/" or "./" (OCI layers and layouts use bare paths). */
  path: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; fixed by the builders so archives are byte-for-byte reproducible. */
  mtime: number;
  data?: Buffer;
  /** A symlink's target; a hard link's is the path of an earlier entry of the same archive. */
  linkname?: string;
}

export class TarFormatError extends Error {
  readonly code = 'ERR_TAR_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', dir: '5' };

function writeString(buf: Buffer, offset: number, len: number, s: string): void {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > len) throw new TarFormatError(`tar field too long (${n} > ${len}): ${s}`);
  buf.write(s, offset, n, 'utf8');
}

function writeOctal(buf: Buffer, offset: number, len: number, n: number): void {
  // len-1 octal digits, then NUL, as GNU tar and Go's archive/tar write them.
  writeString(buf, offset, len, n.toString(8).padStart(len - 1, '0') + '\0');
}

/** Splits a path into ustar (prefix, name) when it exceeds 100 bytes. */
function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return [prefix, name];
  }
  throw new TarFormatError(`path too long for ustar: ${path}`);
}

/** Writes the entry's header block into `h` (512 zeroed bytes). */
function header(e: TarEntry, h: Buffer): void {
  const path = e.type === 'dir' && !e.path.endsWith('/') ? e.path + '/' : e.path;
  const [prefix, name] = splitPath(path);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, e.mode & 0o7777);
  writeOctal(h, 108, 8, e.uid ?? 0);
  writeOctal(h, 116, 8, e.gid ?? 0);
  writeOctal(h, 124, 12, e.type === 'file' ? (e.data?.length ?? 0) : 0);
  writeOctal(h, 136, 12, e.mtime);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(h, 156, 1, TYPEFLAG[e.type]);
  if (e.linkname !== undefined) writeString(h, 157, 100, e.linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, (e.uid ?? 0) === 0 ? 'root' : '');
  writeString(h, 297, 32, (e.gid ?? 0) === 0 ? 'root' : '');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
}

/** Serialises entries in the given order, followed by the two zero blocks that end an archive. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  // One zeroed buffer of the archive's size, written in place (the padding and the end are its zeros):
  // a layer of a few hundred entries was ~10 ms of small buffers and their concatenation.
  const dataBlocks = (e: TarEntry) => (e.type === 'file' && e.data ? Math.ceil(e.data.length / BLOCK) : 0);
  let size = BLOCK * 2;
  for (const e of entries) size += BLOCK * (1 + dataBlocks(e));
  const out = Buffer.alloc(size);
  let off = 0;
  for (const e of entries) {
    header(e, out.subarray(off, off + BLOCK));
    off += BLOCK;
    const blocks = dataBlocks(e);
    if (blocks) e.data!.copy(out, off);
    off += BLOCK * blocks;
  }
  return out;
}

export interface TarMember {
  path: string;
  /** ustar type flag as written ('0' file, '5' dir, '2' symlink, '1' hard link, ...). */
  typeflag: string;
  data: Buffer;
  /** A link's target ('' for other members). */
  linkname: string;
}

function readString(buf: Buffer, offset: number, len: number): string {
  const slice = buf.subarray(offset, offset + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function readOctal(buf: Buffer, offset: number, len: number): number {
  const s = readString(buf, offset, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/**
 * Lists the regular members of an archive (ustar, GNU and PAX long names are handled), returning
 * views into `buf`, not copies. Paths are normalised without a leading "./".
 */
export function readTar(buf: Buffer): TarMember[] {
  const out: TarMember[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = readOctal(h, 124, 12);
    const typeflag = readString(h, 156, 1) || '0';
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new TarFormatError('truncated tar archive');
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (typeflag === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (typeflag === 'g') continue;
    const magic = readString(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? readString(h, 345, 155) : '';
    let path = longName ?? (prefix ? `${prefix}/${readString(h, 0, 100)}` : readString(h, 0, 100));
    longName = undefined;
    path = path.replace(/^\.\//, '').replace(/^\/+/, '');
    out.push({ path, typeflag, data, linkname: readString(h, 157, 100) });
  }
  return out;
}
