import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Prng } from './prng';
import { parseWorkerLine, type TaskLogEvent } from './worker-log';

/** How the fleet starts each worker process. */
export interface FleetOptions {
  /** Path of the worker app's entry (apps/worker/dist/main.js). */
  readonly entry: string;
  /** Arguments after the entry: concurrency, --redis, --queue, … */
  readonly args: readonly string[];
  /** Called with every task line of every worker. */
  readonly onEvent: (event: TaskLogEvent) => void;
  /** Called with a note when a worker exits on its own (not killed or stopped by the fleet). */
  readonly onUnexpectedExit: (note: string) => void;
  /** Forward the workers' stderr. Default false. */
  readonly verbose?: boolean;
  /** Write each worker's stdout and stderr to `<logDir>/worker-<n>-<pid>.log`. Default: not kept. */
  readonly logDir?: string;
}

const STDERR_TAIL = 4000;

/** One worker process and what the fleet knows of it. */
class WorkerProcess {
  /** Set when the fleet killed or stopped it, so its exit is expected. */
  intended = false;
  /** When the fleet killed or stopped it, or it exited by itself (ms since the epoch). */
  endedAt: number | undefined;
  stderr = '';
  readonly closed: Promise<void>;
  private done = false;

  constructor(readonly child: ChildProcess) {
    this.closed = new Promise((resolve) => {
      // 'close' comes after 'exit' and after stdout has ended: every line was read.
      child.once('close', () => {
        this.done = true;
        this.endedAt ??= Date.now();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return !this.done && this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * The worker processes of a chaos run: starts them, SIGKILLs one at random
 * and starts its replacement, replaces one that died by itself, and stops
 * them all. Every process is tracked until its output is read to the end, so
 * START lines of killed workers are counted too.
 */
export class WorkerFleet {
  private readonly all: WorkerProcess[] = [];
  private killCount = 0;
  private unexpectedCount = 0;
  private readonly journal: NodeJS.WritableStream | undefined;

  constructor(private readonly options: FleetOptions) {
    if (options.logDir !== undefined) {
      mkdirSync(options.logDir, { recursive: true });
      this.journal = createWriteStream(join(options.logDir, 'fleet.log'));
    }
  }

  /** Appends `<ms since the epoch> <event>` to <logDir>/fleet.log, when there is one. */
  note(event: string): void {
    this.journal?.write(`${Date.now()} ${event}\n`);
  }

  /** SIGKILLs issued by `killRandom`. */
  get kills(): number {
    return this.killCount;
  }

  /** Workers that exited without being killed or stopped. */
  get unexpectedExits(): number {
    return this.unexpectedCount;
  }

  /** Workers started so far, replacements included. */
  get started(): number {
    return this.all.length;
  }

  /** When the worker with this pid was killed or stopped, or exited; undefined while it runs (or is unknown). */
  endedAt(pid: number): number | undefined {
    return this.all.find((w) => w.pid === pid)?.endedAt;
  }

  /** Starts worker processes until `count` are running, replacing any that died by itself. */
  fill(count: number): void {
    let running = this.running().length;
    while (running < count) {
      this.spawnOne();
      running++;
    }
  }

  /** SIGKILLs a random running worker and starts its replacement. Returns the victim's pid, or undefined if none runs. */
  killRandom(prng: Prng): number | undefined {
    const running = this.running();
    const victim = running[prng.int(0, running.length - 1)];
    if (victim === undefined) return undefined;
    victim.intended = true;
    victim.endedAt = Date.now();
    victim.child.kill('SIGKILL');
    this.note(`SIGKILL pid ${victim.pid}`);
    this.killCount++;
    this.spawnOne();
    return victim.pid;
  }

  /** SIGTERM to every worker (graceful stop); SIGKILL to any still running after `graceMs`. Resolves when all output is read. */
  async stopAll(graceMs: number): Promise<void> {
    for (const w of this.running()) {
      w.intended = true;
      w.endedAt ??= Date.now();
      w.child.kill('SIGTERM');
      this.note(`SIGTERM pid ${w.pid}`);
    }
    const allClosed = Promise.all(this.all.map((w) => w.closed));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      allClosed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      this.killAllNow();
      await allClosed;
    }
  }

  /** SIGKILLs every worker still running and waits (at most 5 s) until their output is read. */
  async killAll(): Promise<void> {
    this.killAllNow();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.all.map((w) => w.closed)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 5000);
      }),
    ]);
    clearTimeout(timer);
    this.journal?.end();
  }

  /** SIGKILLs every worker still running; synchronous, so it can run in a process 'exit' handler. */
  killAllNow(): void {
    for (const w of this.running()) {
      w.intended = true;
      w.child.kill('SIGKILL');
    }
  }

  private running(): WorkerProcess[] {
    return this.all.filter((w) => w.running);
  }

  private spawnOne(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json' };
    delete env['REDIS_URL'];
    const child = spawn(process.execPath, [this.options.entry, ...this.options.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    this.all.push(worker);
    this.note(`spawned pid ${worker.pid}`);
    if (this.options.logDir !== undefined) {
      mkdirSync(this.options.logDir, { recursive: true });
      const file = createWriteStream(join(this.options.logDir, `worker-${this.all.length}-${worker.pid}.log`));
      child.stdout?.pipe(file, { end: false });
      child.stderr?.pipe(file, { end: false });
      void worker.closed.then(() => file.end());
    }
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const event = parseWorkerLine(line);
      if (event) this.options.onEvent(event);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      worker.stderr = (worker.stderr + chunk).slice(-STDERR_TAIL);
      if (this.options.verbose) process.stderr.write(`[worker ${worker.pid}] ${chunk}`);
    });
    child.once('error', (err) => {
      worker.stderr += `\nspawn error: ${err.message}`;
    });
    void worker.closed.then(() => {
      this.note(`closed pid ${worker.pid} (${child.signalCode ?? `code ${child.exitCode}`})`);
      if (worker.intended) return;
      this.unexpectedCount++;
      const how = child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
      const tail = worker.stderr.trim().split('\n').slice(-5).join('\n  ');
      this.options.onUnexpectedExit(`worker pid ${worker.pid} exited by itself (${how})${tail ? `:\n  ${tail}` : ''}`);
    });
  }
}
