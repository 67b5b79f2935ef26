// The tinykube command. Each subcommand lives in its own module and is registered here by name.
import { existsSync } from 'node:fs';
import { enableCompileCache, flushCompileCache } from 'node:module';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setMainFile } from '../util/main-file.ts';

setMainFile(fileURLToPath(import.meta.url));
// Run from bin/tinykube's bundle (dist/, marked by .built): V8's compiled code of its modules is kept
// beside it, so that the next process (an `up --nodes` agent, the next `tinykube up`) deserialises
// instead of parsing ~8 MB of JavaScript (~0.1 s of CPU for the API server's modules). Written once
// this process has loaded what it loads at start, rather than only at its exit; `scripts/build.sh`
// starts a new bundle with an empty cache.
if (existsSync(new URL('.built', import.meta.url))) {
  const cache = enableCompileCache(fileURLToPath(new URL('.compile-cache', import.meta.url)));
  if (cache.directory) setTimeout(() => flushCompileCache(), 15_000).unref();
}

// Output is best effort: a reader that went away (`tinykube up | tee log` stopped with Ctrl-C, which
// ends tee at once) makes each later write fail with EPIPE, and an unhandled stream error would end the
// process in the middle of its stop, leaving namespaces, mounts and containerds behind.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

export interface Command {
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[]): Promise<number | void>;
}

const commands: Record<string, () => Promise<Command>> = {
  agent: async () => (await import('./agent.ts')).agentCommand,
  certs: async () => (await import('./certs.ts')).certsCommand,
  etcd: async () => (await import('./etcd.ts')).etcdCommand,
  image: async () => (await import('./image.ts')).imageCommand,
  server: async () => (await import('./server.ts')).serverCommand,
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  up: async () => (await import('./up.ts')).upCommand,
  version: async () => (await import('./version.ts')).versionCommand,
};

function usage(): string {
  return [
    'Usage: tinykube <command> [options]',
    '',
    'Commands:',
    ...Object.keys(commands).map((c) => `  ${c}`),
    '',
    'Run `tinykube <command> --help` for a command\'s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`tinykube: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = await load();
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: cmd.allowPositionals ?? false, strict: true });
  } catch (err) {
    console.error(`tinykube ${name}: ${(err as Error).message}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(`tinykube ${name}: ${cmd.summary}\n\nOptions:`);
    for (const [k, o] of Object.entries(cmd.options)) console.log(`  --${k}${o.type === 'string' ? ' VALUE' : ''}`);
    return 0;
  }
  const code = await cmd.run(parsed.values, parsed.positionals);
  return typeof code === 'number' ? code : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`tinykube: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
