import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ParentMessage, WorkerConfig, WorkerMessage, WorkerReport } from './workers/protocol';

/** How long a worker process gets to load and connect, and later to stop, ms. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

/** Thrown when a worker process reports an error, exits early or does not answer in time. */
export class WorkerProcessError extends Error {
  override readonly name = 'WorkerProcessError';
}

const live = new Set<ChildProcess>();
// Whatever way the bench ends, it leaves no worker process behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The parent's handle on one worker process: forked with its config,
 * resolved once connected and idle; `go()` starts it, `report()` asks what it
 * counted, `stop()` closes it gracefully (SIGKILL if it hangs).
 */
export class WorkerProcess {
  private readonly waiters = new Map<WorkerMessage['type'], (m: WorkerMessage) => void>();
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly config: WorkerConfig,
  ) {
    live.add(child);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'error') this.fail(new WorkerProcessError(`${config.system} worker: ${m.message}`));
      const waiter = this.waiters.get(m.type);
      this.waiters.delete(m.type);
      waiter?.(m);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (code !== 0) this.fail(new WorkerProcessError(`${config.system} worker exited (code ${code}, signal ${signal})`));
        resolve();
      });
    });
  }

  /** The worker process's pid (for its CPU time in /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(config: WorkerConfig): Promise<WorkerProcess> {
    const child = fork(join(__dirname, 'worker-main.js'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = new WorkerProcess(child, config);
    await worker.expect('ready', START_TIMEOUT_MS);
    return worker;
  }

  /**
   * Starts taking tasks, at once (callers time from this call); resolves once
   * the worker says it started (connections and loops up).
   */
  async go(): Promise<void> {
    const started = this.expect('started', START_TIMEOUT_MS);
    this.send({ type: 'go' });
    await started;
  }

  async report(): Promise<WorkerReport> {
    const reply = this.expect('report', START_TIMEOUT_MS);
    this.send({ type: 'report' });
    const m = await reply;
    if (m.type !== 'report') throw new WorkerProcessError(`unexpected reply ${m.type}`);
    return { handled: m.handled, latenciesMs: m.latenciesMs, prioritiesByQueue: m.prioritiesByQueue };
  }

  /** Stops gracefully and waits for the process to exit; SIGKILL after the timeout. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.connected) {
      const stopped = this.expect('stopped', STOP_TIMEOUT_MS).catch((err: unknown) => err);
      this.send({ type: 'stop' });
      await stopped;
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    if (this.failure) throw this.failure;
  }

  /** Throws the worker's error, if it reported one or exited. */
  assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  /** SIGKILL at once (cleanup after a failed run). */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private send(message: ParentMessage): void {
    if (this.failure) throw this.failure;
    this.child.send(message);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters.values()) waiter({ type: 'error', message: err.message });
    this.waiters.clear();
  }

  private expect(type: WorkerMessage['type'], timeoutMs: number): Promise<WorkerMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(type);
        reject(new WorkerProcessError(`${this.config.system} worker: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(type, (m) => {
        clearTimeout(timer);
        if (m.type === 'error') reject(this.failure ?? new WorkerProcessError(m.message));
        else resolve(m);
      });
    });
  }
}
