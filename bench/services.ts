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
// The memory bench runs with the agent's V8 flags (bin/tinykube: a small young generation).
for (const [script, args] of [['services-proxy.ts', ['--expose-gc']], ['services-dns.ts', []], ['services-memory.ts', ['--expose-gc', '--max-semi-space-size=2', '--optimize-for-size']]] as const) {
  console.log(`\n== ${script}`);
  const r = spawnSync(process.execPath, [...args, path.join(here, script)], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${script} exited with ${r.status ?? r.signal}`);
    failed = true;
  }
}
process.exitCode = failed ? 1 : 0;
