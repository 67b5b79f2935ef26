// bench/services (issue 12): the node proxy and the cluster DNS at 1,000 and 10,000 Services of 10
// endpoints, one after the other (never both at once on 2 cores), each in its own process so neither's
// memory figures carry the other's; then the two together as the agent runs them, for their memory.
// See bench/services-proxy.ts, bench/services-dns.ts and bench/services-memory.ts for what each
// measures and how; this runs them with their defaults and prints their figures.
//
// Not measured here: the API server and EndpointSlice controller's share of "API change → rule in the
// kernel" (the proxy bench feeds informer events straight to the proxier).
//
// Usage: node bench/services.ts (root: the proxy bench makes and deletes its own network namespace).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';

const here = import.meta.dirname;
console.log(`bench/services: load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
let failed = false;
// Each part runs as the agent runs it, with the agent's V8 flags (bin/tinykube: a small young generation,
// memory favoured over speed): the proxy and memory benches in their own process, the DNS bench's server
// in its child.
const AGENT_FLAGS = ['--max-semi-space-size=2', '--optimize-for-size'];
const parts: [string, string[], string[]][] = [
  ['services-proxy.ts', ['--expose-gc', ...AGENT_FLAGS], []],
  ['services-dns.ts', [], [`--node-flags=${AGENT_FLAGS.join(' ')}`]],
  ['services-memory.ts', ['--expose-gc', ...AGENT_FLAGS], []],
];
for (const [script, nodeArgs, scriptArgs] of parts) {
  console.log(`\n== ${script}`);
  const r = spawnSync(process.execPath, [...nodeArgs, path.join(here, script), ...scriptArgs], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${script} exited with ${r.status ?? r.signal}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
