// Start-up steps as a person expects from a modern CLI: one line per step with its duration, a
// spinner or bar while it runs on a terminal, and plain lines (no control codes) otherwise.

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface StepHandle {
  /** Updates the running step's detail (e.g. a progress fraction 0..1 and a label). */
  progress(fraction: number | undefined, detail?: string): void;
}

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #quiet: boolean;

  constructor(opts: { out?: NodeJS.WriteStream; quiet?: boolean } = {}) {
    this.#out = opts.out ?? process.stderr;
    this.#tty = Boolean(this.#out.isTTY) && process.env.TERM !== 'dumb';
    this.#quiet = opts.quiet ?? false;
  }

  /** Runs one step, showing it while it runs and its outcome after. */
  async step<T>(title: string, fn: (h: StepHandle) => Promise<T>): Promise<T> {
    const start = performance.now();
    let frame = 0;
    let fraction: number | undefined;
    let detail = '';
    const render = () => {
      if (!this.#tty) return;
      const bar = fraction === undefined ? '' : ` ${progressBar(fraction, 20)} ${Math.round(fraction * 100)}%`;
      const line = `${frames[frame++ % frames.length]} ${title}${bar}${detail ? `  ${detail}` : ''}`;
      this.#out.write(`\r\x1b[2K${line.slice(0, (this.#out.columns || 100) - 1)}`);
    };
    const timer = this.#tty && !this.#quiet ? setInterval(render, 80) : undefined;
    if (!this.#quiet) render();
    const handle: StepHandle = {
      progress(f, d) {
        fraction = f === undefined ? undefined : Math.max(0, Math.min(1, f));
        if (d !== undefined) detail = d;
      },
    };
    try {
      const result = await fn(handle);
      this.#finish('✓', title, start);
      return result;
    } catch (err) {
      this.#finish('✗', title, start);
      throw err;
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  info(line: string): void {
    if (this.#quiet) return;
    this.#out.write(`${this.#tty ? '\r\x1b[2K' : ''}${line}\n`);
  }

  #finish(mark: string, title: string, start: number): void {
    if (this.#quiet) return;
    const ms = performance.now() - start;
    const took = ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
    this.#out.write(`${this.#tty ? '\r\x1b[2K' : ''}${mark} ${title} (${took})\n`);
  }
}

export function progressBar(fraction: number, width: number): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}
