// Bundles tinykube for bin/tinykube: src/cli/main.ts and everything it loads, its npm dependencies
// included, into a few ES modules under the given directory (esbuild; `node scripts/bundle.ts OUTDIR`).
//
// Why: Node loads a module graph file by file. `tinykube up --nodes 3` starts four Node processes, and
// the API server alone was ~970 modules (~540 of them from node_modules): resolving, reading and
// compiling them cost ~0.7 s of CPU in the `up` process and ~0.25 s in each agent, on the way to its
// nodes being Ready. Bundled, the same code loads in about half that. Each command's modules stay in
// their own chunks (src/cli/main.ts imports them when run), so `tinykube version` loads little.
//
// The bundle must behave as the sources do (the e2e tests run it through bin/tinykube):
// - CommonJS dependencies call `require`; an ES module has none, so each chunk makes one for its own
//   location (dist/, inside the repository: node_modules resolves from there as from src/). Node's
//   built-in modules are loaded through it too (see builtinsViaRequire).
// - Files read at run time next to a module (`new URL('./x', import.meta.url)`) are copied to the
//   output directory, where every chunk lives.
// - `import.meta.resolve` of a package (the client-node models, kubernetes-types) resolves from dist/
//   as from src/.
// - A package that reads files beside its own (`__dirname`) when loaded stays in node_modules.

import { build, type Plugin } from 'esbuild';
import { builtinModules } from 'node:module';
import { copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const outdir = path.resolve(process.argv[2] ?? path.join(repo, 'dist'));

/** Read at run time beside the module that reads them (see the list above). */
const ASSETS = ['src/apiserver/openapi/openapiv2.proto'];

/**
 * Node's built-in modules through `require`, not `import`: the first `import` of a built-in makes its
 * ES module facade, which reads every export once, and so runs the lazy ones (node:http's WebSocket
 * loads all of undici, node:crypto's webcrypto the whole of WebCrypto): ~0.1 s of CPU per process for
 * what tinykube never uses. Through `require`, named imports become property reads when used.
 */
const builtinsViaRequire: Plugin = {
  name: 'builtins-via-require',
  setup(b) {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      // The require() in the stand-in below is Node's own.
      if (args.namespace === 'node-builtin') return { path: args.path, external: true };
      return { path: args.path, namespace: 'node-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

const result = await build({
  absWorkingDir: repo,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Chunks beside main.js: a module's `import.meta.url` then names the same directory for all of them.
  chunkNames: '[name]-[hash]',
  banner: { js: "import { createRequire as __tinykubeCreateRequire } from 'node:module';\nconst require = __tinykubeCreateRequire(import.meta.url);" },
  // Stack traces name the bundle's lines; the sources are one `grep` away.
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  // etcd3 reads its .proto beside its own files when loaded: it stays in node_modules (only the etcd
  // store and the managed etcd member load it).
  external: ['etcd3'],
  plugins: [builtinsViaRequire],
});

for (const asset of ASSETS) await copyFile(path.join(repo, asset), path.join(outdir, path.basename(asset)));

const inputs = Object.keys(result.metafile.inputs);
const files = (await readdir(outdir)).filter((f) => f.endsWith('.js'));
console.log(`bundled ${inputs.length} modules (${inputs.filter((i) => i.includes('node_modules/')).length} from node_modules) into ${files.length} files in ${path.relative(repo, outdir) || '.'}`);
