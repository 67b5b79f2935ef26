// `tinykube image`: images without a registry.
//   image import FILE... [--data-dir DIR | --containerd-socket SOCK] [--force]
//       loads OCI or `docker save` archives into the node's containerd (k8s.io namespace, where CRI
//       and so the pods see them) and prints the names they brought;
//   image build-busybox [NAME...] [-o FILE] [--import]
//       builds the offline busybox image from Debian's busybox-static (names default to busybox:latest
//       and the installed version's tags);
//   image ls [--data-dir DIR | --containerd-socket SOCK]
//       lists the node's images as CRI sees them.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from './main.ts';
import { defaultDataDir } from './paths.ts';
import { containerdLayout } from '../kubelet/containerd/config.ts';
import { CriRuntime } from '../kubelet/cri/cri-runtime.ts';
import type { ImageInfo } from '../kubelet/runtime/runtime.ts';
import { buildBusyboxImage, defaultBusyboxNames } from '../kubelet/images/builtin.ts';
import { importImage } from '../kubelet/images/import.ts';
import { normalizeImageName } from '../kubelet/images/reference.ts';

const USAGE = `Usage:
  tinykube image import FILE... [--data-dir DIR | --containerd-socket SOCK] [--force]
  tinykube image build-busybox [NAME...] [-o FILE] [--import] [--data-dir DIR | --containerd-socket SOCK]
  tinykube image ls [--data-dir DIR | --containerd-socket SOCK]`;

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/**
 * The node's containerd socket: given outright, or found under a data dir. A data dir may be the
 * agent's (`DIR/containerd`) or the whole installation's, as `tinykube up` lays it out
 * (`DIR/agent/containerd`), or containerd's own; the default is where `tinykube up` and `tinykube
 * agent` put theirs.
 */
export function containerdSocketFor(values: Values): string {
  const socket = values['containerd-socket'];
  if (typeof socket === 'string') return socket;
  const dir = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : join(defaultDataDir(), 'agent');
  const candidates = [join(dir, 'containerd'), join(dir, 'agent', 'containerd'), dir].map((d) => containerdLayout(d).socket);
  return candidates.find((s) => existsSync(s)) ?? candidates[0];
}

function needSocket(socket: string): string | undefined {
  if (existsSync(socket)) return undefined;
  return `no containerd socket at ${socket}: is the node agent running? (point at it with --data-dir DIR or --containerd-socket SOCK)`;
}

function human(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

/** crictl's `images` table: one row per repo tag (untagged images once, as <none>). */
export function imageTable(images: readonly ImageInfo[]): string {
  const rows: string[][] = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const img of images) {
    const id = img.id.replace(/^sha256:/, '').slice(0, 13);
    const tags = img.repoTags.length ? img.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      rows.push([t.slice(0, colon), t.slice(colon + 1), id, human(img.size)]);
    }
  }
  rows.splice(1, rows.length - 1, ...rows.slice(1).sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1])));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('')).join('\n');
}

async function importFiles(files: string[], socket: string, force: boolean): Promise<number> {
  const problem = needSocket(socket);
  if (problem) {
    console.error(`tinykube image import: ${problem}`);
    return 1;
  }
  for (const f of files) {
    const r = await importImage(socket, resolve(f), { force });
    const verb = r.imported ? 'imported' : 'already present';
    for (const img of r.images) {
      const names = img.names.length ? img.names.join(', ') : '(no name: refer to it by ID)';
      console.log(`${verb}: ${names} (${img.id.slice(0, 19)})`);
    }
  }
  return 0;
}

export const imageCommand: Command = {
  summary: 'import, build and list node images without a registry (import | build-busybox | ls)',
  allowPositionals: true,
  options: {
    'data-dir': { type: 'string' },
    'containerd-socket': { type: 'string' },
    output: { type: 'string', short: 'o' },
    import: { type: 'boolean' },
    force: { type: 'boolean' },
  },
  async run(values, positionals) {
    const [sub, ...args] = positionals;
    switch (sub) {
      case 'import': {
        if (args.length === 0) {
          console.error(`tinykube image import: FILE is required\n\n${USAGE}`);
          return 2;
        }
        const missing = args.find((f) => !existsSync(f));
        if (missing) {
          console.error(`tinykube image import: ${missing}: no such file`);
          return 1;
        }
        return importFiles(args, containerdSocketFor(values), Boolean(values.force));
      }
      case 'build-busybox': {
        let names: string[];
        try {
          names = args.length ? args.map(normalizeImageName) : defaultBusyboxNames();
        } catch (err) {
          console.error(`tinykube image build-busybox: ${(err as Error).message}`);
          return 2;
        }
        const out = resolve(typeof values.output === 'string' ? values.output : 'busybox.tar');
        const built = await buildBusyboxImage(out, names);
        console.log(`built ${built.file} (${human(built.bytes)}, ${built.id.slice(0, 19)}): ${built.names.join(', ')}`);
        if (values.import) return importFiles([out], containerdSocketFor(values), true);
        return 0;
      }
      case 'ls':
      case 'list': {
        if (args.length) {
          console.error(`tinykube image ls: takes no arguments\n\n${USAGE}`);
          return 2;
        }
        const socket = containerdSocketFor(values);
        const problem = needSocket(socket);
        if (problem) {
          console.error(`tinykube image ls: ${problem}`);
          return 1;
        }
        const rt = new CriRuntime({ socket });
        try {
          console.log(imageTable(await rt.listImages()));
        } finally {
          rt.close();
        }
        return 0;
      }
      default:
        console.error(`${sub ? `tinykube image: unknown subcommand "${sub}"\n\n` : ''}${USAGE}`);
        return 2;
    }
  },
};
