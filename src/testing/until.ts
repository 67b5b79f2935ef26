// The one way tests await a state: `until(what, probe)` re-runs `probe` until it yields a value (not
// undefined, null or false) and resolves with it; after the timeout it rejects naming what was awaited.
//
//   await until('pod web bound', async () => (await get(pod)).spec?.nodeName);
//   await until('a watcher armed', () => server.watchers > 0, { intervalMs: 0 });
//   await until('three crontabs', () => list().length === 3, { on: (check) => informer.on('add', check) });
//
// By default the probe runs every `intervalMs`; with `on`, it runs on every event instead (no polling).
// A probe that throws counts as "not yet" (an object not created yet answers 404), and the last error
// is part of the timeout message, so a probe that always fails still says why.
//
// Test-only: imported by *.test.ts files and testing helpers (the dependency-direction test checks it).

export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

export interface UntilOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Between polls; 0 turns the event loop once (setImmediate), for states reached by in-process work. Default 20 ms. */
  intervalMs?: number;
  /**
   * Event-driven waiting: called once with a `check` to run on every event; may return a function
   * that unsubscribes. The probe then runs only on events (and once at the start).
   */
  on?: (check: () => void) => (() => void) | void;
  /** Read on timeout and appended to the message: the state that explains it (events seen, a log tail). */
  detail?: () => string;
}

/** Resolves with the probe's first value that is not undefined, null or false; `what` names what is awaited. */
export function until<T>(what: string, probe: Probe<T>, opts: UntilOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    let lastError: unknown;
    let poll: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined;
    let unsubscribe: (() => void) | void = undefined;

    const finish = (): void => {
      done = true;
      clearTimeout(deadline);
      if (poll !== undefined) {
        clearTimeout(poll as ReturnType<typeof setTimeout>);
        clearImmediate(poll as ReturnType<typeof setImmediate>);
      }
      if (unsubscribe) unsubscribe();
    };
    const schedule = (): void => {
      if (done || opts.on) return;
      poll = intervalMs === 0 ? setImmediate(check) : setTimeout(check, intervalMs);
    };
    async function run(): Promise<void> {
      try {
        const v = await probe();
        if (v !== undefined && v !== null && v !== false) {
          finish();
          resolve(v);
          return;
        }
      } catch (err) {
        lastError = err;
      }
    }
    function check(): void {
      if (done) return;
      // Events may arrive while an async probe runs: run once more after it rather than in parallel.
      if (running) {
        again = true;
        return;
      }
      running = true;
      void run().then(() => {
        running = false;
        if (done) return;
        if (again) {
          again = false;
          check();
        } else {
          schedule();
        }
      });
    }

    const deadline = setTimeout(() => {
      if (done) return;
      finish();
      const cause = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${detail}`, lastError === undefined ? undefined : { cause: lastError }));
    }, timeoutMs);
    if (opts.on) unsubscribe = opts.on(check);
    check();
  });
}
