// The stop signal of a long-running command (Ctrl-C or SIGTERM), in a module of its own so that the
// agent does not load the server's modules to wait for it (the agent starts in another process per node).
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
