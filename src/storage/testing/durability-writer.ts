// Child process for the kill -9 durability test: writes keys as fast as it can, several in flight
// at once (so group commit is exercised), and prints "ack <index> <revision>" only after each write
// is acknowledged. The test kills it mid-stream and checks that every acknowledged key survived.
//
// Usage: node durability-writer.ts DB_PATH COUNT CONCURRENCY
import { openSqliteBackend } from '../sqlite/sqlite-backend.ts';

const [path, countArg = '100000', concArg = '8'] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: durability-writer.ts DB_PATH [COUNT] [CONCURRENCY]\n');
  process.exit(2);
}
const count = Number(countArg);
const backend = openSqliteBackend(path);
let next = 0;

async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const rev = await backend.create(`/registry/pods/durability/k${i}`, JSON.stringify({ i, pad: 'p'.repeat(200) }));
    // Written synchronously, so a line is never half-printed when the kill lands between writes.
    process.stdout.write(`ack ${i} ${rev}\n`);
  }
}

await Promise.all(Array.from({ length: Number(concArg) }, () => worker()));
await backend.close();
