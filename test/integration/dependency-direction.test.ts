// The dependency direction of the design ("Layout and dependency direction" in design.md, rule 10 of
// style.md, the layout in README.md), checked over every import of every file under src/ (tests
// included): static imports and re-exports, type-only ones too (they couple the modules just the
// same), and dynamic import() with a literal path. A new import that points the wrong way fails here,
// naming the file and line, its target and the rule it breaks.
//
// The rules are per top-level folder of src/, so they hold however a folder is organised inside
// (src/registry/<group>/<kind>/ included). A new top-level folder fails until it is given its place in
// LAYERS. It lives under test/ rather than beside the code because it judges the whole tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Layer {
  /** The top-level folders of src/ this one may import, besides itself. */
  readonly may: readonly string[];
  /** Why, as design.md puts it: the message a broken rule prints. */
  readonly why: string;
}

const COMPONENT = 'a component talks to the API server through src/client, never to storage, the registry or another component';
const COMPONENTS = ['scheduler', 'controllers', 'kubelet', 'proxy', 'dns', 'overlay'];

/**
 * Who may import whom. `api` and `util` are the pure base; `util` imports nothing because `api` already
 * imports it (api/field.ts → util/status.ts) and the two must not form a loop.
 *
 * `cli` is the `tinykube` command: main.ts reads argv and hands each subcommand to its composition in
 * cmd/ (up, server, agent); two subcommands run a piece of a component in-process themselves (`image
 * import` drives the node's CRI image service, `simulate` runs simulated nodes), and `up` and `version`
 * use the API server's kubeconfig writer and version facts. That is wiring, so cli sits with cmd above
 * the components; like every caller but cmd it never reaches storage or the registry.
 */
const LAYERS: Readonly<Record<string, Layer>> = {
  util: { may: [], why: 'pure: clock, backoff, queues, errors; api imports util, so util → api would be a loop' },
  api: { may: ['util'], why: 'pure: Kubernetes types, defaults, validation and helpers, importing nothing that serves or runs' },
  storage: { may: ['api', 'util'], why: 'storage sits on api and util only (design.md: api, util ← storage ← registry ← apiserver)' },
  registry: { may: ['api', 'util', 'storage'], why: 'the registry sits on storage (design.md: api, util ← storage ← registry ← apiserver)' },
  apiserver: { may: ['api', 'util', 'storage', 'registry'], why: 'only the API server touches the registry and storage; it never imports a client or a component' },
  client: { may: ['api', 'util'], why: 'the client sits on api and util only (design.md: api, util ← client ← components)' },
  ...Object.fromEntries(COMPONENTS.map((c) => [c, { may: ['api', 'util', 'client'], why: COMPONENT }])),
  cli: {
    may: ['api', 'util', 'client', 'cmd', 'apiserver', ...COMPONENTS],
    why: 'the tinykube command wires components (see LAYERS), but only src/cmd/ reaches storage and the registry',
  },
  testing: { may: ['api', 'util'], why: 'the shared test builders and until() sit on the pure base, so any test can use them (only tests may: see below)' },
  cmd: {
    may: ['api', 'util', 'storage', 'registry', 'apiserver', 'client', ...COMPONENTS],
    why: 'src/cmd/ is the composition root: it may import any component, and nothing imports it but the command (src/cli)',
  },
};

interface Exception {
  /** A file, or a folder prefix ending in "/", relative to the repository root. */
  readonly from: string;
  readonly to: string;
  /** Only for test files (*.test.ts). */
  readonly testsOnly?: boolean;
  readonly why: string;
}

/**
 * Test code, the only code that may import src/testing: test files, and the testing helpers beside
 * them (a `testing.ts` file or a `testing/` folder, e.g. the scheduler's harness, the pod-worker stack).
 */
function isTestCode(rel: string): boolean {
  // Tests import src/testing from every layer (an api test builds pods too), so these imports are
  // outside the layer rules; a non-test file importing it would ship test builders in a component.
  return rel.endsWith('.test.ts') || rel.startsWith('src/testing/') || /(^|\/)testing(\.ts$|\/)/.test(rel);
}

/** Imports allowed against the rules, each with its reason. Keep this short; an entry that no longer matches fails the test. */
const EXCEPTIONS: readonly Exception[] = [
  {
    from: 'src/cmd/up.ts',
    to: 'src/cli/progress.ts',
    why: "type-only: `up` reports its start-up steps through the command's progress printer; the Progress seam belongs in cmd/ (or util/), which would end the cmd ↔ cli loop",
  },
  {
    from: 'src/kubelet/streaming/server.test.ts',
    to: 'src/apiserver/auth/pki.ts',
    why: "the test needs a CA and a serving certificate, made with the API server's PKI helper (no shared certificate module yet)",
  },
  {
    from: 'src/apiserver/auth/authn.test.ts',
    to: 'src/client/',
    why: 'the test drives the server through the real client, as a user would (bootstrap tokens, client certificates)',
  },
];

interface Import {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** Top-level folder of a repository-relative path under src/, or undefined outside src/. */
function topOf(rel: string): string | undefined {
  const parts = rel.split('/');
  if (parts[0] !== 'src') return undefined;
  return parts.length > 2 ? parts[1] : '(src root)';
}

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const out: Import[] = [];
  // The TypeScript scanner sees through comments and strings; with detectJavaScriptImports it also
  // reports import('...') calls with a literal specifier.
  for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
    if (!ref.fileName.startsWith('.')) continue; // packages and node: builtins are not layers
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), ref.fileName));
    const line = text.slice(0, ref.pos).split('\n').length;
    out.push({ file, line, target });
  }
  return out;
}

function matches(pattern: string, p: string): boolean {
  return pattern.endsWith('/') ? p.startsWith(pattern) : p === pattern;
}

function covers(e: Exception, imp: Import): boolean {
  return matches(e.from, imp.file) && matches(e.to, imp.target) && (!e.testsOnly || imp.file.endsWith('.test.ts'));
}

function exceptionFor(imp: Import): Exception | undefined {
  return EXCEPTIONS.find((e) => covers(e, imp));
}

const files = globSync('src/**/*.ts', { cwd: ROOT }).map((f) => f.split(path.sep).join('/')).sort();
const imports = files.flatMap(importsOf);

test('dependency direction: every import under src/ points the way design.md says', () => {
  assert.ok(files.length > 100, `expected the source tree under ${ROOT}/src, found ${files.length} files`);
  const problems: string[] = [];
  for (const imp of imports) {
    const from = topOf(imp.file) ?? '';
    const to = topOf(imp.target);
    const where = `${imp.file}:${imp.line} → ${imp.target}`;
    if (to === undefined) {
      problems.push(`${where}: src/ never imports from outside src/ (test/, bench/, scripts/)`);
      continue;
    }
    if (to === 'testing' && from !== 'testing') {
      if (!isTestCode(imp.file)) problems.push(`${where}: only tests and testing helpers (*.test.ts, testing.ts, testing/) import src/testing; it is not part of any component`);
      continue;
    }
    if (from === to) continue;
    const layer = LAYERS[from];
    if (!layer) {
      problems.push(`${where}: src/${from} has no place in the dependency direction yet; add it to LAYERS in this test`);
      continue;
    }
    if (layer.may.includes(to) || exceptionFor(imp)) continue;
    const allowed = layer.may.length ? `may import only ${layer.may.map((m) => `src/${m}`).join(', ')}` : 'imports nothing else in src/';
    problems.push(`${where}: src/${from} ${allowed} (${layer.why})`);
  }
  if (problems.length > 0) assert.fail(`imports against the dependency direction:\n${problems.join('\n')}`);
});

test('dependency direction: every top-level folder of src/ has its place', () => {
  const unknown = [...new Set(files.map((f) => topOf(f) ?? ''))].filter((t) => !LAYERS[t]);
  assert.deepEqual(unknown, [], `folders of src/ missing from LAYERS: ${unknown.join(', ')}`);
});

/** Strongly connected components with more than one folder (Tarjan), each sorted. */
function loopsIn(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

test('dependency direction: the layers themselves form no loop', () => {
  const graph = new Map(Object.entries(LAYERS).map(([name, l]) => [name, new Set(l.may)]));
  assert.deepEqual(loopsIn(graph), []);
});

test('dependency direction: no loop between top-level folders of src/', () => {
  // An exception is the one way to let an import against the rules in, a loop included: it says why,
  // and goes when the import goes. Every other import between folders counts.
  const graph = new Map<string, Set<string>>();
  const example = new Map<string, Import>();
  for (const imp of imports) {
    const from = topOf(imp.file);
    const to = topOf(imp.target);
    // Test code importing src/testing makes no loop: nothing imports a test (non-test code importing
    // src/testing fails the test above).
    if (!from || !to || from === to || exceptionFor(imp) || (to === 'testing' && isTestCode(imp.file))) continue;
    let outs = graph.get(from);
    if (!outs) graph.set(from, (outs = new Set()));
    outs.add(to);
    if (!example.has(`${from}>${to}`)) example.set(`${from}>${to}`, imp);
  }
  const loops = loopsIn(graph).map((scc) => {
    const inside = scc.flatMap((a) => scc.map((b) => example.get(`${a}>${b}`)).filter((x): x is Import => x !== undefined));
    return `src/{${scc.join(', ')}} import each other: ${inside.map((i) => `${i.file}:${i.line} → ${i.target}`).join('; ')}`;
  });
  if (loops.length > 0) assert.fail(`loops between top-level folders:\n${loops.join('\n')}`);
});

test('dependency direction: every exception still matches an import', () => {
  const stale = EXCEPTIONS.filter((e) => !imports.some((imp) => covers(e, imp)));
  assert.deepEqual(stale, [], 'exceptions that no import needs any more: remove them');
});

test('dependency direction: what counts as test code, the only code that may import src/testing', () => {
  const cases: Array<[string, boolean]> = [
    ['src/api/scheduling/resources.test.ts', true],
    ['src/kubelet/podworkers/testing.ts', true],
    ['src/scheduler/testing/harness.ts', true],
    ['src/testing/objects.ts', true],
    ['src/kubelet/podworkers/sync.ts', false],
    ['src/util/testing-clock.ts', false],
  ];
  for (const [file, want] of cases) assert.equal(isTestCode(file), want, file);
});
