// `tinykube certs`: the cluster's certificates and their expiry.
//   certs check [--data-dir DIR]
//       prints every certificate (the CA, the API server's serving, admin and agent-client
//       certificates, and each certificate or kubeconfig a node agent keeps under DIR) with its
//       subject, names, validity and days left; exits 1 if one has expired.
//   certs rotate [--data-dir DIR] [--service NAME...]
//       renews the server's leaf certificates now (all, or the named ones: serving, admin,
//       agent-client). A running server needs no restart: it watches its PKI directory and installs
//       the new files within moments (and re-reads them on its hourly renewal check regardless),
//       rewriting its admin kubeconfig. Unlike k3s' `certificate rotate`, no restart is needed.
// The CA is never rotated here: every node pinned it, so replacing it means re-joining every node.
//
// DIR is a server's data dir (`tinykube server`, PKI in DIR/pki) or a whole installation's (`tinykube
// up`, PKI in DIR/server/pki); the default is where both put theirs.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { Command } from './main.ts';
import { defaultDataDir } from './paths.ts';
import {
  CA_WARN_BEFORE_MS,
  caExpiryWarning,
  certificateFacts,
  ensurePki,
  LEAF_NAMES,
  leafCertPem,
  pkiPaths,
  PkiError,
  RENEW_BEFORE_MS,
  type CertificateFacts,
  type LeafName,
} from '../apiserver/auth/pki.ts';
import { rfc3339 } from '../util/clock.ts';

const USAGE = `Usage:
  tinykube certs check [--data-dir DIR]
  tinykube certs rotate [--data-dir DIR] [--service serving|admin|agent-client ...]`;

const DAY = 24 * 60 * 60 * 1000;

export interface CertificateRow {
  /** `ca`, a leaf name, or the path of a node's certificate relative to the data dir. */
  name: string;
  file: string;
  facts: CertificateFacts;
}

export interface CertificateReport {
  rows: CertificateRow[];
  /** Where the server's PKI was found. */
  serverDataDir: string;
  caWarning: string | undefined;
}

/** The server data dir under DIR: DIR itself (`tinykube server`) or DIR/server (`tinykube up`). */
export function serverDataDirOf(dir: string): string | undefined {
  for (const d of [dir, path.join(dir, 'server')]) if (existsSync(pkiPaths(d).caCert)) return d;
  return undefined;
}

/** Every certificate under `dir`: the server's PKI first, then what node agents keep. */
export async function collectCertificates(dir: string, now: number): Promise<CertificateReport | undefined> {
  const serverDataDir = serverDataDirOf(dir);
  if (!serverDataDir) return undefined;
  const paths = pkiPaths(serverDataDir);
  const files: Record<'ca' | LeafName, string> = { ca: paths.caCert, serving: paths.serverCert, admin: paths.adminCert, 'agent-client': paths.agentClientCert };
  const rows: CertificateRow[] = [];
  for (const [name, file] of Object.entries(files)) {
    const pem = await readIfExists(file);
    if (pem !== undefined) rows.push({ name, file, facts: certificateFacts(pem) });
  }
  for (const found of await nodeCertificates(dir, paths.pkiDir)) rows.push(found);
  const ca = rows.find((r) => r.name === 'ca');
  const caPem = ca && (await readIfExists(ca.file));
  return { rows, serverDataDir, caWarning: caPem ? caExpiryWarning(caPem, now) : undefined };
}

/** The table `certs check` prints; SANS last, as it is the widest. */
export function certificateTable(rows: readonly CertificateRow[], now: number): string {
  const table: string[][] = [['CERTIFICATE', 'SUBJECT', 'NOT BEFORE', 'NOT AFTER', 'DAYS LEFT', 'STATUS', 'SANS']];
  for (const r of rows) {
    const left = r.facts.notAfter - now;
    table.push([
      r.name,
      r.facts.subject,
      rfc3339(r.facts.notBefore),
      rfc3339(r.facts.notAfter),
      String(Math.floor(left / DAY)),
      status(r.facts, left),
      r.facts.sans.join(','),
    ]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  return table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] + 3))).join('').trimEnd()).join('\n');
}

function status(facts: CertificateFacts, left: number): string {
  if (left <= 0) return 'EXPIRED';
  if (facts.isCa) return left <= CA_WARN_BEFORE_MS ? 'CA EXPIRES SOON' : 'OK';
  return left <= RENEW_BEFORE_MS ? 'RENEW NOW' : 'OK';
}

/**
 * Renews the named leaf certificates (all when none are named) on disk, keeping every name the
 * current serving certificate carries. Returns the renewed rows.
 */
export async function rotateCertificates(dir: string, services: readonly LeafName[], now: number): Promise<CertificateRow[]> {
  const serverDataDir = serverDataDirOf(dir);
  if (!serverDataDir) throw new PkiError(`no tinykube server PKI under ${dir} (looked for pki/ca.crt and server/pki/ca.crt)`);
  const paths = pkiPaths(serverDataDir);
  const serving = await readIfExists(paths.serverCert);
  const renew = services.length ? services : LEAF_NAMES;
  const pki = await ensurePki(serverDataDir, { hosts: serving ? certificateFacts(serving).sans : [], renew, now: () => now, createCa: false });
  const files: Record<LeafName, string> = { serving: paths.serverCert, admin: paths.adminCert, 'agent-client': paths.agentClientCert };
  return renew.map((name) => ({ name, file: files[name], facts: certificateFacts(leafCertPem(pki, name)) }));
}

export const certsCommand: Command = {
  summary: 'show the cluster certificates and their expiry, or renew them now (check | rotate)',
  allowPositionals: true,
  options: {
    'data-dir': { type: 'string' },
    service: { type: 'string', multiple: true, short: 's' },
  },
  async run(values, positionals) {
    const [sub, ...args] = positionals;
    const dir = path.resolve(typeof values['data-dir'] === 'string' ? values['data-dir'] : defaultDataDir());
    if (args.length) {
      console.error(`tinykube certs ${sub}: takes no arguments\n\n${USAGE}`);
      return 2;
    }
    const now = Date.now();
    switch (sub) {
      case 'check': {
        const report = await collectCertificates(dir, now);
        if (!report) {
          console.error(`tinykube certs check: no tinykube server PKI under ${dir} (looked for pki/ca.crt and server/pki/ca.crt); use --data-dir DIR`);
          return 1;
        }
        console.log(certificateTable(report.rows, now));
        if (report.caWarning) console.error(`\nWARNING: ${report.caWarning}`);
        const expired = report.rows.filter((r) => r.facts.notAfter <= now);
        if (expired.length) {
          console.error(`\n${expired.length} certificate(s) expired: ${expired.map((r) => r.name).join(', ')}. The server's leaf certificates: \`tinykube certs rotate\`; a node agent's are renewed by the agent.`);
          return 1;
        }
        return 0;
      }
      case 'rotate': {
        const wanted = (values.service as string[] | undefined) ?? [];
        const unknown = wanted.filter((s) => !(LEAF_NAMES as readonly string[]).includes(s));
        if (unknown.length) {
          console.error(`tinykube certs rotate: unknown service ${unknown.map((s) => `"${s}"`).join(', ')} (one of: ${LEAF_NAMES.join(', ')}; the CA is not rotated by this command)`);
          return 2;
        }
        let rows: CertificateRow[];
        try {
          rows = await rotateCertificates(dir, wanted as LeafName[], now);
        } catch (err) {
          console.error(`tinykube certs rotate: ${err instanceof Error ? err.message : String(err)}`);
          return 1;
        }
        for (const r of rows) console.log(`renewed ${r.name}: ${r.file}, valid until ${rfc3339(r.facts.notAfter)}`);
        console.log(`A running server installs them without a restart (it watches ${path.dirname(rows[0]?.file ?? dir)}); its kubeconfig is rewritten.`);
        return 0;
      }
      default:
        console.error(`${sub ? `tinykube certs: unknown subcommand "${sub}"\n\n` : ''}${USAGE}`);
        return 2;
    }
  },
};

// --- node agents' certificates ---------------------------------------------------------------------

// Directories of a data dir that hold no certificates but many files (images, containers, volumes).
const SKIP_DIRS = new Set(['containerd', 'storage', 'images', 'pods', 'node_modules']);
const MAX_DEPTH = 4;

/** Certificates (`*.crt`, `*.pem`) and kubeconfigs with an embedded client certificate under `dir`, outside the server's PKI. */
async function nodeCertificates(dir: string, serverPkiDir: string): Promise<CertificateRow[]> {
  const out: CertificateRow[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || path.resolve(d) === path.resolve(serverPkiDir)) return;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(file, depth + 1);
        continue;
      }
      if (!e.isFile()) continue;
      const name = path.relative(dir, file);
      if (e.name.endsWith('.crt') || e.name.endsWith('.pem')) {
        const facts = factsOf(await readIfExists(file));
        if (facts) out.push({ name, file, facts });
      } else if (e.name.includes('kubeconfig')) {
        const facts = factsOf(kubeconfigClientCert(await readIfExists(file)));
        if (facts) out.push({ name: `${name} (client)`, file, facts });
      }
    }
  };
  await walk(dir, 0);
  return out;
}

function factsOf(pem: string | undefined): CertificateFacts | undefined {
  const block = pem && /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!block) return undefined;
  try {
    return certificateFacts(block);
  } catch {
    return undefined;
  }
}

function kubeconfigClientCert(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const doc = parse(text) as { users?: Array<{ user?: { 'client-certificate-data'?: string } }> } | null;
    const data = doc?.users?.find((u) => u.user?.['client-certificate-data'])?.user?.['client-certificate-data'];
    return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
