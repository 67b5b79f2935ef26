// The client package's public surface, for components that prefer one import.
export * from './client.ts';
export * from './errors.ts';
export * from './resources.ts';
export * from './watch.ts';
export * from './cache.ts';
export * from './informer.ts';
export * from './backoff.ts';
export * from './kubeconfig.ts';
export * from './bootstrap.ts';
