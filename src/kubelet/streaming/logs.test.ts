import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LogOptionsError, parseCriLogLine, parseLogQuery, parseRfc3339, tailStart, writeContainerLog, type CriLogRecord, type LogOptions } from './logs.ts';

const T0 = '2026-11-24T03:18:34.8Z';
/** A CRI log line; `at` is seconds after T0's minute. */
function rec(sec: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string): string {
  return `2026-11-24T03:18:${String(sec).padStart(2, '0')}.5Z ${stream} ${tag} ${text}\n`;
}

async function render(content: string, opts: Partial<LogOptions> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tk-logs-'));
  try {
    const file = join(dir, '0.log');
    await writeFile(file, content);
    const out: Buffer[] = [];
    await writeContainerLog(file, { follow: false, previous: false, timestamps: false, ...opts }, async (b) => void out.push(b));
    return Buffer.concat(out).toString();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('CRI log records', () => {
  const cases: [string, string, Partial<CriLogRecord> | undefined][] = [
    ['full line', `${T0} stdout F hello world`, { stream: 'stdout', partial: false, content: Buffer.from('hello world') }],
    ['partial line', `${T0} stderr P part`, { stream: 'stderr', partial: true, content: Buffer.from('part') }],
    ['empty message', `${T0} stdout F`, { stream: 'stdout', partial: false, content: Buffer.alloc(0) }],
    ['spaces kept', `${T0} stdout F  a  b `, { content: Buffer.from(' a  b ') }],
    ['several tags', `${T0} stdout F:x msg`, { partial: false, content: Buffer.from('msg') }],
    ['bad stream', `${T0} stdin F x`, undefined],
    ['bad tag', `${T0} stdout X x`, undefined],
    ['bad time', `yesterday stdout F x`, undefined],
    ['no fields', `${T0}`, undefined],
  ];
  for (const [name, line, want] of cases) {
    it(`parses a ${name}`, () => {
      const got = parseCriLogLine(Buffer.from(line));
      if (!want) return assert.equal(got, undefined);
      assert.ok(got);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof CriLogRecord], v, k);
    });
  }

  it('keeps nanoseconds and the zone, and renders nine fraction digits', () => {
    assert.deepEqual(parseRfc3339('2026-11-24T03:18:34.8Z'), { ns: BigInt(Date.UTC(2026, 10, 24, 3, 18, 34)) * 1_000_000n + 800_000_000n, fixed: '2026-11-24T03:18:34.800000000Z' });
    assert.equal(parseRfc3339('2026-11-24T03:18:34.123456789+02:00')!.fixed, '2026-11-24T03:18:34.123456789+02:00');
    assert.equal(parseRfc3339('2026-11-24T05:18:34+02:00')!.ns, parseRfc3339('2026-11-24T03:18:34Z')!.ns);
    assert.equal(parseRfc3339('2026-11-24 03:18:34Z'), undefined);
  });
});

describe('log query', () => {
  const now = Date.UTC(2026, 10, 24, 4, 0, 0);
  it('reads the PodLogOptions names', () => {
    assert.deepEqual(parseLogQuery(new URLSearchParams('follow=true&previous=true&timestamps=true&tailLines=2&limitBytes=30&sinceSeconds=60'), now), {
      follow: true, previous: true, timestamps: true, tailLines: 2, limitBytes: 30, since: BigInt(now - 60_000) * 1_000_000n,
    });
    assert.equal(parseLogQuery(new URLSearchParams('sinceTime=2020-01-01T00:00:00Z'), now).since, BigInt(Date.UTC(2020, 0, 1)) * 1_000_000n);
  });
  const bad = ['tailLines=-1', 'tailLines=x', 'limitBytes=0', 'sinceSeconds=0', 'sinceSeconds=5&sinceTime=2020-01-01T00:00:00Z', 'sinceTime=yesterday', 'stream=both'];
  for (const q of bad) {
    it(`refuses ${q}`, () => assert.throws(() => parseLogQuery(new URLSearchParams(q), now), LogOptionsError));
  }
});

describe('container log output', () => {
  const log = rec(1, 'stdout', 'F', 'one') + rec(2, 'stderr', 'F', 'two') + rec(3, 'stdout', 'P', 'thr') + rec(4, 'stdout', 'P', 'e') + rec(4, 'stdout', 'F', 'e!') + rec(5, 'stdout', 'F', 'four');
  const cases: [string, Partial<LogOptions>, string][] = [
    ['everything, partial lines joined', {}, 'one\ntwo\nthree!\nfour\n'],
    ['tail 2 counts joined lines', { tailLines: 2 }, 'three!\nfour\n'],
    ['tail 0', { tailLines: 0 }, ''],
    ['tail larger than the log', { tailLines: 99 }, 'one\ntwo\nthree!\nfour\n'],
    ['timestamps once per line', { tailLines: 2, timestamps: true }, '2026-11-24T03:18:03.500000000Z three!\n2026-11-24T03:18:05.500000000Z four\n'],
    ['limitBytes cuts mid-line', { limitBytes: 6 }, 'one\ntw'],
    ['since skips older records', { since: parseRfc3339('2026-11-24T03:18:04Z')!.ns }, 'ee!\nfour\n'],
    ['one stream', { stream: 'stderr' }, 'two\n'],
  ];
  for (const [name, opts, want] of cases) {
    it(name, async () => assert.equal(await render(log, opts), want));
  }

  it('skips malformed lines and an unterminated last line', async () => {
    assert.equal(await render(rec(1, 'stdout', 'F', 'a') + 'garbage\n' + rec(2, 'stdout', 'F', 'b') + `${T0} stdout F cut`), 'a\nb\n');
  });

  it('counts a trailing partial run as the last line', () => {
    const recs = [rec(1, 'stdout', 'F', 'a'), rec(2, 'stdout', 'P', 'b'), rec(3, 'stdout', 'P', 'c')].map((l) => parseCriLogLine(Buffer.from(l.trimEnd()))!);
    assert.equal(tailStart(recs, 1), 1);
    assert.equal(tailStart(recs, 2), 0);
  });

  it('treats a missing file as an empty log', async () => {
    const out: Buffer[] = [];
    await writeContainerLog('/nonexistent/tk/0.log', { follow: false, previous: false, timestamps: false }, async (b) => void out.push(b));
    assert.equal(out.length, 0);
  });
});

describe('following a log', () => {
  async function setup() {
    const dir = await mkdtemp(join(tmpdir(), 'tk-follow-'));
    const file = join(dir, '0.log');
    await writeFile(file, rec(1, 'stdout', 'F', 'first'));
    const chunks: string[] = [];
    let onChunk: (() => void) | undefined;
    const sink = async (b: Buffer) => {
      chunks.push(b.toString());
      onChunk?.();
    };
    const nextChunk = () => new Promise<void>((r) => (onChunk = r));
    return { dir, file, chunks, sink, nextChunk, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  // The poll is driven by hand: each sleep resolves when the test says so or a watch event fires.
  function manualSleep() {
    const waiting: (() => void)[] = [];
    return {
      sleep: (_ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
        waiting.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
      tick: () => waiting.splice(0).forEach((r) => r()),
    };
  }

  it('writes new records as they are appended and ends when the container stops', async () => {
    const s = await setup();
    const clock = manualSleep();
    let running = true;
    const ac = new AbortController();
    const opts = { follow: true, previous: false, timestamps: false };
    let got = s.nextChunk();
    const done = writeContainerLog(s.file, opts, s.sink, { stillWriting: async () => running, pollMs: 10, signal: ac.signal, sleep: clock.sleep });
    await got;
    got = s.nextChunk();
    await appendFile(s.file, rec(2, 'stdout', 'P', 'sec'));
    await appendFile(s.file, rec(2, 'stdout', 'F', 'ond'));
    clock.tick();
    await got;
    while (s.chunks.join('') !== 'first\nsecond\n') {
      got = s.nextChunk();
      clock.tick();
      await got;
    }
    await appendFile(s.file, rec(3, 'stdout', 'F', 'last'));
    running = false;
    clock.tick();
    await done;
    assert.equal(s.chunks.join(''), 'first\nsecond\nlast\n');
    await s.cleanup();
  });

  it('ends once the next restart file appears, after draining this one', async () => {
    const s = await setup();
    const clock = manualSleep();
    const ac = new AbortController();
    const got = s.nextChunk();
    const done = writeContainerLog(s.file, { follow: true, previous: false, timestamps: false }, s.sink, {
      stillWriting: async () => true, nextFile: join(s.dir, '1.log'), pollMs: 10, signal: ac.signal, sleep: clock.sleep,
    });
    await got;
    await appendFile(s.file, rec(2, 'stdout', 'F', 'bye'));
    await writeFile(join(s.dir, '1.log'), rec(3, 'stdout', 'F', 'restarted'));
    clock.tick();
    await done;
    assert.equal(s.chunks.join(''), 'first\nbye\n');
    await s.cleanup();
  });

  it('stops when the request is aborted, and at limitBytes', async () => {
    const s = await setup();
    const ac = new AbortController();
    const got = s.nextChunk();
    const done = writeContainerLog(s.file, { follow: true, previous: false, timestamps: false }, s.sink, { stillWriting: async () => true, pollMs: 60_000, signal: ac.signal });
    await got;
    ac.abort();
    await done;
    const limited: string[] = [];
    await writeContainerLog(s.file, { follow: true, previous: false, timestamps: false, limitBytes: 3 }, async (b) => void limited.push(b.toString()), {
      stillWriting: async () => true, pollMs: 60_000, signal: new AbortController().signal,
    });
    assert.equal(limited.join(''), 'fir');
    await s.cleanup();
  });
});
