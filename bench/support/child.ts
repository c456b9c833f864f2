// A forked helper process spoken to over IPC: one request at a time, each answered by a
// reply with the expected `cmd`. The child is killed when the benchmark exits.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class Child<Req extends { cmd: string }, Rep extends { cmd: string }> {
  readonly #proc: ChildProcess;
  readonly #name: string;
  #waiting: { cmd: string; resolve: (r: Rep) => void; reject: (e: Error) => void } | undefined;
  #exited: string | undefined;
  readonly #exit: Promise<void>;

  constructor(name: string, script: URL, opts: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    this.#name = name;
    this.#proc = fork(fileURLToPath(script), [], {
      execArgv: opts.execArgv ?? [],
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#proc.on('message', (m: Rep) => {
      const w = this.#waiting;
      if (w === undefined || m.cmd !== w.cmd) return;
      this.#waiting = undefined;
      w.resolve(m);
    });
    this.#exit = new Promise((resolve) => this.#proc.once('exit', () => resolve()));
    this.#proc.on('exit', (code, signal) => {
      this.#exited = `${this.#name} exited (${code ?? signal})`;
      this.#waiting?.reject(new Error(this.#exited));
      this.#waiting = undefined;
    });
    process.once('exit', () => this.#proc.kill('SIGKILL'));
  }

  get pid(): number {
    return this.#proc.pid ?? 0;
  }

  request<C extends Rep['cmd']>(msg: Req, replyCmd: C): Promise<Extract<Rep, { cmd: C }>> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    if (this.#waiting) return Promise.reject(new Error(`${this.#name}: one request at a time`));
    return new Promise((resolve, reject) => {
      this.#waiting = { cmd: replyCmd, resolve: resolve as (r: Rep) => void, reject };
      this.#proc.send(msg);
    });
  }

  /** Waits up to `ms` for the child to exit by itself (e.g. to write a CPU profile), then kills it. */
  async stop(ms: number): Promise<void> {
    if (this.#exited) return;
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), ms);
    await this.#exit;
    clearTimeout(timer);
  }
}
