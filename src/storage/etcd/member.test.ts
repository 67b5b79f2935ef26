// The member supervisor over a stand-in for etcd (a shell script that says what etcd says): a
// member that exits on its own is restarted, one the cluster removed is not, stop() ends it by PID
// for good, and a member that never serves is a start error carrying its last lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdMemberProcess, EtcdMemberStartError } from './member.ts';

const READY = 'echo "ready to serve client requests" >&2';

function member(script: string) {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const proc = new EtcdMemberProcess({
    binary: '/bin/sh',
    args: ['-c', script],
    name: 'm1',
    dataDir: '/var/lib/nowhere',
    restartInitialMs: 10,
    readyTimeoutMs: 10_000,
    log: (line) => {
      lines.push(line);
      for (const w of waiters.filter((x) => x.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
  });
  const logged = (re: RegExp) => new Promise<void>((resolve) => (lines.some((l) => re.test(l)) ? resolve() : waiters.push({ re, resolve })));
  return { proc, lines, logged };
}

test('a member that exits on its own is restarted with its data kept, and says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-member-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The first run serves, then fails; the second keeps serving.
  const m = member(`${READY}; if [ ! -f ${dir}/once ]; then touch ${dir}/once; sleep 0.2; echo "boom" >&2; exit 3; fi; exec sleep 60`);
  t.after(() => m.proc.stop());
  await m.proc.start();
  const first = m.proc.pid;
  await m.logged(/etcd member m1 is serving again/);
  assert.match(m.lines.find((l) => l.includes('exited unexpectedly'))!, /exited unexpectedly \(code 3\); restarting it in 10 ms \(its data in \/var\/lib\/nowhere are kept\); its last lines:\n {2}ready to serve client requests\n {2}boom/);
  assert.ok(m.proc.pid !== undefined && m.proc.pid !== first);
});

test('a member the cluster removed is not restarted', async (t) => {
  const m = member(`${READY}; sleep 0.2; echo "the member has been permanently removed from the cluster" >&2; exit 1`);
  t.after(() => m.proc.stop());
  await m.proc.start();
  await m.logged(/was removed from the cluster/);
  assert.match(m.lines.at(-1)!, /etcd member m1 was removed from the cluster and exited \(code 1\); not restarting it\. Its data stay in \/var\/lib\/nowhere: move that directory away/);
  assert.equal(m.proc.pid, undefined);
  assert.ok(!m.lines.some((l) => l.includes('restarting it in')));
});

test('stop() ends the member by PID and it is not restarted', async () => {
  const m = member(`${READY}; exec sleep 60`);
  await m.proc.start();
  const pid = m.proc.pid!;
  await m.proc.stop();
  assert.equal(m.proc.pid, undefined);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  assert.deepEqual(m.lines, []);
});

test('a member that exits before serving is a start error with its last lines', async () => {
  const m = member('echo "listen tcp 127.0.0.1:2379: bind: address already in use" >&2; exit 1');
  await assert.rejects(m.proc.start(), (err: unknown) => err instanceof EtcdMemberStartError && /exited \(code 1\) before serving clients\. Its last lines:\nlisten tcp 127\.0\.0\.1:2379: bind: address already in use/.test(err.message));
  await m.proc.stop();
});
