import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonObjectSplitter, WatchDecoder, parseWatchEvent } from './watch.ts';
import type { WatchEvent } from './watch.ts';
import { ApiClient } from './client.ts';
import { Pods } from './resources.ts';
import { ApiError, WatchDecodeError } from './errors.ts';

// Events chosen to trip a naive splitter: braces and quotes inside strings, escaped backslashes right
// before a closing quote, multi-byte UTF-8 (2, 3 and 4 bytes), nested objects and arrays, empty objects.
const EVENTS: unknown[] = [
  { type: 'ADDED', object: { metadata: { name: 'a', annotations: { x: '}{"}' } } } },
  { type: 'MODIFIED', object: { metadata: { name: 'b\\', labels: { 'k\\"': 'v\\\\' } }, spec: { c: [{ d: [] }, {}] } } },
  { type: 'MODIFIED', object: { metadata: { name: 'ünïcødé-日本-🚀' }, data: 'é}"{' } },
  { type: 'DELETED', object: {} },
  { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 5 (1000)' } },
];

function decodeAll(chunks: Uint8Array[]): unknown[] {
  const s = new JsonObjectSplitter();
  const out: unknown[] = [];
  for (const c of chunks) for (const t of s.push(c)) out.push(JSON.parse(t));
  assert.equal(s.partial, false);
  // The decoder (newline fast path, falling back to the byte scan) must agree event for event, and
  // hand each event out as soon as its last byte arrived.
  const d = new WatchDecoder<unknown>();
  const events: unknown[] = [];
  let bytes = 0;
  for (const c of chunks) {
    events.push(...d.push(Buffer.from(c)));
    bytes += c.length;
    assert.equal(events.length, out.length === 0 ? 0 : completeBy(chunks, bytes, s), 'an event completed by this chunk was held back');
  }
  assert.equal(d.partial, false);
  assert.deepEqual(events, out);
  return out;
}

/** How many objects the byte scan completes within the first `bytes` bytes of the chunks. */
function completeBy(chunks: Uint8Array[], bytes: number, _s: JsonObjectSplitter): number {
  const all = Buffer.concat(chunks).subarray(0, bytes);
  return new JsonObjectSplitter().push(all).length;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

// Deterministic PRNG so a failure is reproducible.
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

for (const [name, sep] of [['newline-terminated', '\n'], ['concatenated without newlines', ''], ['CRLF and spaces', ' \r\n\t']] as const) {
  const stream = Buffer.from(EVENTS.map((e) => JSON.stringify(e) + sep).join(''), 'utf8');

  test(`splitter (${name}): every single cut point`, () => {
    for (let i = 0; i <= stream.length; i++) assert.deepEqual(decodeAll(splitAt(stream, [i])), EVENTS, `cut at ${i}`);
  });

  test(`splitter (${name}): byte by byte`, () => {
    const chunks = [...stream].map((b) => Uint8Array.of(b));
    assert.deepEqual(decodeAll(chunks), EVENTS);
  });

  test(`splitter (${name}): random multi-cut chunkings`, () => {
    const rnd = lcg(42);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * stream.length));
      assert.deepEqual(decodeAll(splitAt(stream, cuts)), EVENTS, `cuts ${cuts.join(',')}`);
    }
  });
}

test('splitter: one chunk with everything yields all events in order', () => {
  const buf = Buffer.from(EVENTS.map((e) => JSON.stringify(e)).join('\n'));
  assert.deepEqual(decodeAll([buf]), EVENTS);
});

test('splitter: partial while inside an object', () => {
  const s = new JsonObjectSplitter();
  assert.deepEqual(s.push(Buffer.from('{"type":"ADDED","obj')), []);
  assert.equal(s.partial, true);
  assert.equal(s.push(Buffer.from('ect":{}}\n')).length, 1);
  assert.equal(s.partial, false);
});

test('splitter: rejects bytes that are not part of an object', () => {
  const s = new JsonObjectSplitter();
  assert.throws(() => s.push(Buffer.from('{"a":1}\nnot json')), WatchDecodeError);
  const d = new WatchDecoder();
  assert.throws(() => d.push(Buffer.from('{"type":"ADDED","object":{}}\nnot json\n')), WatchDecodeError);
});

test('decoder: a pretty-printed stream falls back to the byte scan', () => {
  const d = new WatchDecoder();
  const text = EVENTS.map((e) => JSON.stringify(e, null, 2)).join('\n');
  assert.deepEqual(d.push(Buffer.from(text)), EVENTS);
  assert.equal(d.partial, false);
});

test('parseWatchEvent: validates type and object', () => {
  const cases: Array<[string, string | null]> = [
    ['{"type":"ADDED","object":{"a":1}}', null],
    ['{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}', null],
    ['{"type":"NOPE","object":{}}', 'unknown watch event type'],
    ['{"type":"ADDED"}', 'no object'],
    ['[1]', 'no object'],
    ['{"type":"ADDED","object":{}', 'invalid JSON'],
  ];
  for (const [text, err] of cases) {
    if (err === null) assert.doesNotThrow(() => parseWatchEvent(text), text);
    else assert.throws(() => parseWatchEvent(text), (e: unknown) => e instanceof WatchDecodeError && e.message.includes(err), text);
  }
  const ev = parseWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}');
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.type === 'ERROR' && ev.object.code, 410);
});

// --- WatchStream over a real chunked HTTP response ---------------------------------------------------

interface Served {
  client: ApiClient;
  requests: http.IncomingMessage[];
  responses: Array<Promise<http.ServerResponse>>;
  close(): Promise<void>;
}

// Each watch request is parked so the test drives its response; nothing waits on wall-clock time.
async function serve(): Promise<Served> {
  const requests: http.IncomingMessage[] = [];
  const resolvers: Array<(r: http.ServerResponse) => void> = [];
  const responses: Array<Promise<http.ServerResponse>> = [];
  for (let i = 0; i < 8; i++) responses.push(new Promise((r) => resolvers.push(r)));
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/namespaces/gone/')) {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', message: 'too old', code: 410 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    requests.push(req);
    resolvers[requests.length - 1](res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = new ApiClient({ server: `http://127.0.0.1:${port}` });
  return {
    client,
    requests,
    responses,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('WatchStream: events split across HTTP chunks, ERROR surfaced, query carried', async (t) => {
  const s = await serve();
  t.after(() => s.close());
  const w = await s.client.watch<{ metadata?: { name?: string } }>(Pods, 'default', { resourceVersion: '12', labelSelector: 'app=web', allowWatchBookmarks: true });
  const res = await s.responses[0];
  const url = new URL(s.requests[0].url!, 'http://x');
  assert.equal(url.pathname, '/api/v1/namespaces/default/pods');
  assert.deepEqual(Object.fromEntries(url.searchParams), { watch: 'true', resourceVersion: '12', labelSelector: 'app=web', allowWatchBookmarks: 'true' });
  const wire = Buffer.from(EVENTS.map((e) => JSON.stringify(e) + '\n').join(''));
  const got: WatchEvent<unknown>[] = [];
  const reader = (async () => {
    for await (const ev of w) got.push(ev);
  })();
  // Odd-sized writes so chunk boundaries fall mid-event and mid-character.
  for (let i = 0; i < wire.length; i += 7) res.write(wire.subarray(i, i + 7));
  res.end();
  await reader;
  assert.deepEqual(got, EVENTS);
});

test('WatchStream: aborting the signal ends the iteration quietly', async (t) => {
  const s = await serve();
  t.after(() => s.close());
  const ac = new AbortController();
  const w = await s.client.watch(Pods, undefined, { signal: ac.signal });
  const res = await s.responses[0];
  const got: unknown[] = [];
  const reader = (async () => {
    for await (const ev of w) {
      got.push(ev);
      ac.abort();
    }
  })();
  res.write('{"type":"ADDED","object":{"metadata":{"name":"x"}}}\n');
  await reader;
  assert.equal(got.length, 1);
  assert.equal(w.closed, true);
});

test('WatchStream: a connection cut mid-event throws', async (t) => {
  const s = await serve();
  t.after(() => s.close());
  const w = await s.client.watch(Pods, 'default');
  const res = await s.responses[0];
  res.write('{"type":"ADDED","object":{"metadata":{"name":"x"}}}\n{"type":"MOD');
  const got: unknown[] = [];
  const reader = (async () => {
    for await (const ev of w) {
      got.push(ev);
      res.socket?.destroy();
    }
  })();
  await assert.rejects(reader);
  assert.equal(got.length, 1);
});

test('watch: a 410 answer at start rejects with ApiError Expired', async (t) => {
  const s = await serve();
  t.after(() => s.close());
  await assert.rejects(s.client.watch(Pods, 'gone', { resourceVersion: '1' }), (e: unknown) => e instanceof ApiError && e.code === 410 && e.reason === 'Expired');
});
