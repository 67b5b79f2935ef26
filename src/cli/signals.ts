// The stop signal of a long-running command (Ctrl-C, SIGTERM, or SIGHUP when its terminal goes away),
// in a module of its own so that the agent does not load the server's modules to wait for it (the agent
// starts in another process per node).

/**
 * SIGHUP stops as SIGTERM does: a closed terminal or a dropped SSH session would otherwise end the
 * process at once (Node's default), leaving an `up`'s namespaces, bridge and containerds behind.
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.off(s, on);
      resolve(sig);
    };
    for (const s of STOP_SIGNALS) process.on(s, on);
  });
}
