// The node agent's streaming server (logs, exec, attach, port-forward) for the API server to proxy to.
export * from './server.ts';
export * from './logs.ts';
export type * from './pods.ts';
