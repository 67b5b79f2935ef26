// Runs the whole suite with node:test. Unit tests sit beside the code (src/**/*.test.ts);
// integration and end-to-end tests are under test/, the benchmarks' helpers' beside them (bench/lib).
// Extra arguments narrow the run to matching files.
import { globSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const filters = process.argv.slice(2);
const files = [
  ...globSync('src/**/*.test.ts'),
  ...globSync('test/**/*.test.ts'),
  ...globSync('bench/**/*.test.ts'),
].sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// One file at a time: e2e tests share containerd, iptables and the 2 CPUs. A test that hangs is cut off
// after 3 minutes, and a file whose tests are done exits even if a stray timer is left.
// TINYKUBE_FREEZE_SHARED: the registry deep-freezes the objects it shares between watchers and
// writers, so a test fails where code writes to one (src/registry/store.ts).
// test-preload.ts: without it, --test-force-exit drops results on their way to this process.
const preload = new URL('./test-preload.ts', import.meta.url).href;
const r = spawnSync(process.execPath, ['--import', preload, '--test', '--test-concurrency=1', '--test-timeout=180000', '--test-force-exit', ...files], { stdio: 'inherit', env: { ...process.env, TINYKUBE_FREEZE_SHARED: '1' } });
process.exit(r.status ?? 1);
