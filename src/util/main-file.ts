// The file this process' `tinykube` command runs from: src/cli/main.ts, or bin/tinykube's bundle
// (dist/main.js). A process that starts more of itself (`up --nodes` its agents) starts that file, so
// the agents run exactly what the `up` process runs. Unset when no command runs (tests call src/cmd/
// directly): the caller then knows its own way to the sources.

let mainFile: string | undefined;

/** Said once by src/cli/main.ts, at its start. */
export function setMainFile(file: string): void {
  mainFile = file;
}

export function runningMainFile(): string | undefined {
  return mainFile;
}
