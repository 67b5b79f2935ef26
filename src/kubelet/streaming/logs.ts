// Container logs as the kubelet serves them: CRI-format files
// (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`, one record per line, long lines cut into P(artial)
// records ended by an F(ull) one) turned back into the program's output, with the options of
// `kubectl logs` (tailLines, sinceSeconds/sinceTime, timestamps, limitBytes, follow).
//
// Called by the streaming server for each /containerLogs request, concurrently for many requests;
// each call only reads files.

import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { queryFlag } from '../../api/queryparams.ts';

export class LogOptionsError extends Error {
  readonly code = 'ERR_LOGS_BAD_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'LogOptionsError';
  }
}

export interface LogTime {
  /** Nanoseconds since the epoch. */
  ns: bigint;
  /** RFC 3339 with exactly nine fraction digits, in the zone it was written with (the kubelet's output format). */
  fixed: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(s: string): LogTime | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = '', zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) return undefined;
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  }
  const ns = (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  const fixed = `${y}-${mo}-${d}T${h}:${mi}:${sec}.${frac.padEnd(9, '0')}${zone === 'z' ? 'Z' : zone}`;
  return { ns, fixed };
}

export interface CriLogRecord {
  time: LogTime;
  stream: 'stdout' | 'stderr';
  /** A P record: the line continues in the next record. */
  partial: boolean;
  content: Buffer;
}

/** One line of a CRI log file, without its newline; undefined when malformed (the kubelet skips those). */
export function parseCriLogLine(line: Buffer): CriLogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const time = parseRfc3339(line.toString('latin1', 0, s1));
  if (!time) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag field may carry several ':'-separated tags; the first is P or F. An empty message has
  // no trailing space after the tag.
  let s3 = line.indexOf(0x20, s2 + 1);
  if (s3 < 0) s3 = line.length;
  const tags = line.toString('latin1', s2 + 1, s3).split(':');
  if (tags[0] !== 'P' && tags[0] !== 'F') return undefined;
  return { time, stream, partial: tags[0] === 'P', content: line.subarray(Math.min(s3 + 1, line.length)) };
}

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Only the last N lines (0 = none). */
  tailLines?: number;
  /** Stop after this many bytes. */
  limitBytes?: number;
  /** Skip records older than this (ns since the epoch). */
  since?: bigint;
  /** Only one of the streams (PodLogOptions.stream); both when absent. */
  stream?: 'stdout' | 'stderr';
}


function int(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v)) throw new LogOptionsError(`${name}: invalid value ${JSON.stringify(v)}: must be an integer`);
  const n = Number(v);
  if (n < min) throw new LogOptionsError(`${name}: Invalid value: ${n}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}`);
  return n;
}

/** The query of a kubelet /containerLogs request (the PodLogOptions names); `nowMs` anchors sinceSeconds. */
export function parseLogQuery(q: URLSearchParams, nowMs: number): LogOptions {
  const opts: LogOptions = { follow: queryFlag(q, 'follow'), previous: queryFlag(q, 'previous'), timestamps: queryFlag(q, 'timestamps') };
  const tail = int(q, 'tailLines', 0);
  if (tail !== undefined) opts.tailLines = tail;
  const limit = int(q, 'limitBytes', 1);
  if (limit !== undefined) opts.limitBytes = limit;
  const sinceSeconds = int(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== null) throw new LogOptionsError('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (sinceSeconds !== undefined) opts.since = (BigInt(nowMs) - BigInt(sinceSeconds) * 1000n) * 1_000_000n;
  if (sinceTime !== null) {
    const t = parseRfc3339(sinceTime);
    if (!t) throw new LogOptionsError(`sinceTime: invalid value ${JSON.stringify(sinceTime)}: must be an RFC 3339 time`);
    opts.since = t.ns;
  }
  const stream = q.get('stream');
  if (stream === 'Stdout') opts.stream = 'stdout';
  else if (stream === 'Stderr') opts.stream = 'stderr';
  else if (stream !== null && stream !== 'All') throw new LogOptionsError(`stream: Unsupported value: ${JSON.stringify(stream)}: supported values: "All", "Stderr", "Stdout"`);
  return opts;
}

/** Where formatted output goes; resolves when the bytes may be followed by more (backpressure). */
export type LogSink = (chunk: Buffer) => Promise<void>;

/** Turns records into output bytes, honouring since/stream/timestamps/limitBytes. */
export class LogFormatter {
  readonly #opts: LogOptions;
  readonly #sink: LogSink;
  #atLineStart = true;
  #remaining: number;

  constructor(opts: LogOptions, sink: LogSink) {
    this.#opts = opts;
    this.#sink = sink;
    this.#remaining = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** True once limitBytes is used up: nothing more will be written. */
  get full(): boolean {
    return this.#remaining <= 0;
  }

  async write(rec: CriLogRecord): Promise<void> {
    const lineStart = this.#atLineStart;
    this.#atLineStart = !rec.partial;
    if (this.full) return;
    if (this.#opts.since !== undefined && rec.time.ns < this.#opts.since) return;
    if (this.#opts.stream && rec.stream !== this.#opts.stream) return;
    const parts: Buffer[] = [];
    if (this.#opts.timestamps && lineStart) parts.push(Buffer.from(rec.time.fixed + ' '));
    parts.push(rec.content);
    if (!rec.partial) parts.push(Buffer.from('\n'));
    let out = Buffer.concat(parts);
    if (out.length > this.#remaining) out = out.subarray(0, this.#remaining);
    this.#remaining -= out.length;
    if (out.length) await this.#sink(out);
  }
}

/** Splits complete lines off a buffer; returns the records and the unterminated rest. */
function splitRecords(buf: Buffer): { records: CriLogRecord[]; rest: Buffer } {
  const records: CriLogRecord[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    const rec = parseCriLogLine(buf.subarray(start, nl));
    if (rec) records.push(rec);
    start = nl + 1;
  }
  return { records, rest: buf.subarray(start) };
}

/** Index of the first record of the last `n` lines (a line = records up to and including an F one). */
export function tailStart(records: readonly CriLogRecord[], n: number): number {
  if (n <= 0) return records.length;
  let lines = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    // Record i starts a line when the one before it ended one; a trailing run of P records is an
    // unfinished line and counts as one.
    if (i === 0 || !records[i - 1]!.partial) {
      lines++;
      if (lines === n) return i;
    }
  }
  return 0;
}

export interface FollowControl {
  /** Whether the container instance that writes this file may still write to it. */
  stillWriting(): Promise<boolean>;
  /** A file whose appearance means this instance is over (the next restart's log). */
  nextFile?: string;
  /** How often to re-check when the file system is quiet (ms). */
  pollMs: number;
  signal: AbortSignal;
  /** Waits (injected so tests use events, not time). Default: a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a container's log file to `sink` as `kubectl logs` shows it. Without `follow` it returns at
 * the end of the file; with it, it keeps reading new records until the instance stops writing (its
 * container exited, or its next restart's file appeared), the request is aborted, or limitBytes is
 * reached. A missing file is an empty log (the runtime creates it when the container starts).
 */
export async function writeContainerLog(file: string, opts: LogOptions, sink: LogSink, follow?: FollowControl): Promise<void> {
  const fmt = new LogFormatter(opts, sink);
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    content = Buffer.alloc(0);
  }
  const { records, rest } = splitRecords(content);
  for (let i = opts.tailLines === undefined ? 0 : tailStart(records, opts.tailLines); i < records.length; i++) {
    await fmt.write(records[i]!);
    if (fmt.full) return;
  }
  if (!opts.follow || !follow) return;
  await followFile(file, content.length - rest.length, fmt, follow);
}

async function followFile(file: string, position: number, fmt: LogFormatter, ctl: FollowControl): Promise<void> {
  const sleep = ctl.sleep ?? ((ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  }));
  // Wake-ups come from the directory watch (new data, a new file, a rotation) or the poll timer.
  let wake: (() => void) | undefined;
  let dirty = false;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, poke);
    watcher.on('error', () => undefined);
  } catch {
    // The directory may not exist yet; polling covers it.
  }
  let fh: FileHandle | undefined;
  let ino = -1;
  let pending: Buffer = Buffer.alloc(0);
  const buf = Buffer.alloc(64 * 1024);

  // Reads what is there now; returns whether anything was read.
  const drain = async (): Promise<boolean> => {
    if (!fh) {
      try {
        fh = await open(file, 'r');
        ino = (await fh.stat()).ino;
      } catch {
        return false;
      }
    }
    let readSome = false;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      readSome = true;
      position += bytesRead;
      const { records, rest } = splitRecords(Buffer.concat([pending, buf.subarray(0, bytesRead)]));
      pending = Buffer.from(rest);
      for (const r of records) {
        await fmt.write(r);
        if (fmt.full) return readSome;
      }
    }
    // Rotated (renamed away and recreated) or truncated: continue with the new file from its start.
    const now = await stat(file).catch(() => undefined);
    if (now && (now.ino !== ino || now.size < position)) {
      await fh.close();
      fh = undefined;
      position = 0;
      pending = Buffer.alloc(0);
      return (await drain()) || true;
    }
    return readSome;
  };

  try {
    for (;;) {
      if (ctl.signal.aborted || fmt.full) return;
      dirty = false;
      if (await drain()) continue;
      if (fmt.full || ctl.signal.aborted) return;
      const over = (ctl.nextFile !== undefined && (await exists(ctl.nextFile))) || !(await ctl.stillWriting());
      if (over) {
        await drain();
        return;
      }
      if (dirty) continue;
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      ctl.signal.addEventListener('abort', onAbort, { once: true });
      wake = () => ac.abort();
      await sleep(ctl.pollMs, ac.signal);
      wake = undefined;
      ctl.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    watcher?.close();
    await fh?.close();
  }
}
