import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

// In a worker thread, so that the test runner's own thread is never touched: the worker lowers its
// priority, and the nice values are read from /proc for both threads (field 19 of a task's stat).
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const niceOf = (file) => Number(readFileSync(file, 'utf8').split(') ')[1].split(' ')[16]);
(async () => {
  const { setThreadNice } = await import(${JSON.stringify(new URL('./priority.ts', import.meta.url).href)});
  const own = () => niceOf('/proc/thread-self/stat');
  const main = () => niceOf('/proc/' + process.pid + '/task/' + process.pid + '/stat');
  const before = own();
  const mainBefore = main();
  const restore = setThreadNice(before + 3);
  const during = own();
  const mainDuring = main();
  restore();
  const after = own();
  restore();
  parentPort.postMessage({ before, mainBefore, during, mainDuring, after, again: own(), same: (setThreadNice(after)(), own()) });
})();
`;

test('setThreadNice changes the calling thread only, and puts its value back once', async () => {
  const w = new Worker(WORKER, { eval: true });
  const r = await new Promise<Record<string, number>>((resolve, reject) => w.once('message', resolve).once('error', reject));
  await w.terminate();
  assert.equal(r.during, r.before! + 3);
  assert.equal(r.mainDuring, r.mainBefore, 'the other threads keep their priority');
  // Raising it back needs CAP_SYS_NICE: root (as the suite runs) gets its value back.
  if (process.getuid?.() === 0) assert.equal(r.after, r.before);
  assert.equal(r.again, r.after, 'a second restore does nothing');
  assert.equal(r.same, r.after, 'setting the value it has is a no-op');
});
