// SPDY/3.1 as Kubernetes streaming uses it (exec/attach fallback, port-forward): framing, header
// compression, sessions, and HTTP upgrade plumbing.
export * from './errors.ts';
export * from './frames.ts';
export * from './headers.ts';
export * from './dictionary.ts';
export * from './session.ts';
export * from './upgrade.ts';
