import type { Command } from './main.ts';
import { startServer } from '../cmd/server.ts';
import { defaultDataDir } from './paths.ts';
import { parseDurationMs } from '../util/duration.ts';

export const serverCommand: Command = {
  summary: 'run the control plane (API server on the embedded store)',
  options: {
    'data-dir': { type: 'string' },
    listen: { type: 'string' },
    store: { type: 'string' },
    'event-ttl': { type: 'string' },
    'advertise-address': { type: 'string' },
  },
  async run(values) {
    const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir();
    const server = await startServer({ dataDir, listen: values.listen as string | undefined, store: values.store as string | undefined, eventTTLMs: eventTTLOption(values), advertiseAddress: values['advertise-address'] as string | undefined });
    const cp = server.controlPlane;
    console.log(`tinykube server listening on ${cp.url}`);
    console.log(`kubeconfig: ${cp.kubeconfigPath}`);
    console.log(`node token: ${cp.nodeTokenPath}`);
    console.log(`\n  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get namespaces\n`);
    await waitForSignal();
    console.log('tinykube server: stopping');
    await server.close();
  },
};

/** `--event-ttl` (a Go duration) in ms, for `server` and `up`; undefined keeps the 1 h default. */
export function eventTTLOption(values: Record<string, unknown>): number | undefined {
  const ttl = values['event-ttl'] as string | undefined;
  return ttl === undefined ? undefined : parseDurationMs(ttl, '--event-ttl');
}

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
