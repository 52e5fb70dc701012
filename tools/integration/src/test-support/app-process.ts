import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { withTimeout } from './wait';

/** One pino JSON line of an app's stdout (LOG_FORMAT=json), with when the test read it. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly pid: number;
  readonly receivedAt: number;
  readonly [field: string]: unknown;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process had exited and its output was fully read. */
  readonly at: number;
}

/** The built entry points; `nx run @taskq/integration:test` builds them first (^build). */
const ENTRY = {
  worker: () => join(dirname(require.resolve('worker/package.json')), 'dist', 'main.js'),
  producer: () => join(dirname(require.resolve('producer/package.json')), 'dist', 'main.js'),
  demo: () => join(dirname(require.resolve('producer/package.json')), 'dist', 'demo.js'),
  api: () => join(dirname(require.resolve('api/package.json')), 'dist', 'main.js'),
  /** The ops CLI, `taskq`. */
  cli: () => join(dirname(require.resolve('cli/package.json')), 'dist', 'main.js'),
} as const;

export type AppName = keyof typeof ENTRY;

export interface StartOptions {
  /** Variables set on top of this process's environment (without REDIS_URL); undefined removes one. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const live = new Set<AppProcess>();

/**
 * A taskq app (`node apps/<app>/dist/<entry>.js …`) run as a child process,
 * with its stdout parsed as JSON log lines. Every instance is tracked so that
 * `killAllApps()` (afterEach) leaves nothing running.
 */
export class AppProcess {
  /** Every stdout line, as written. */
  readonly stdoutLines: string[] = [];
  /** The stdout lines that are JSON log records. */
  readonly lines: LogLine[] = [];
  private stderrText = '';
  private exit: ExitInfo | undefined;
  private readonly changed = new Set<() => void>();
  readonly exited: Promise<ExitInfo>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onStdout(line));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrText += chunk;
      this.notify();
    });
    // 'close' comes after 'exit' and after stdout and stderr have ended: all output is in.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        live.delete(this);
        this.notify();
        resolve(this.exit);
      });
    });
  }

  static start(app: AppName, args: readonly string[], options: StartOptions = {}): AppProcess {
    const entry = ENTRY[app]();
    if (!existsSync(entry)) {
      throw new Error(`${entry} does not exist: build the apps first (npx nx run-many -t build -p worker producer cli)`);
    }
    const env: Record<string, string | undefined> = { ...process.env, LOG_FORMAT: 'json' };
    delete env['REDIS_URL'];
    delete env['TASKQ_DEBUG'];
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new AppProcess(`${app} ${args.join(' ')}`, child);
    live.add(proc);
    return proc;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Exit status once the process has exited and its output was read; undefined while it runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.exit;
  }

  /** Log lines whose msg starts with `prefix`. */
  linesStartingWith(prefix: string): LogLine[] {
    return this.lines.filter((l) => l.msg.startsWith(prefix));
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /**
   * Resolves with the first log line (already read or still to come) that
   * matches; rejects when the process ends without one, or after `timeoutMs`.
   */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    return this.waitFor(
      () => {
        const found = this.lines.find(match);
        if (found) return found;
        if (this.exit) throw new Error(`${this.name} exited (${describeExit(this.exit)}) before ${what}\n${this.tail()}`);
        return undefined;
      },
      timeoutMs,
      what,
    );
  }

  /** Resolves once at least `count` log lines match (the matching lines). */
  waitForLines(match: (line: LogLine) => boolean, count: number, what: string, timeoutMs = 10_000): Promise<LogLine[]> {
    return this.waitFor(
      () => {
        const found = this.lines.filter(match);
        if (found.length >= count) return found;
        if (this.exit) {
          throw new Error(`${this.name} exited (${describeExit(this.exit)}) after ${found.length} of ${count} ${what}\n${this.tail()}`);
        }
        return undefined;
      },
      timeoutMs,
      what,
    );
  }

  /** Resolves with the exit status; rejects if the process is still running after `timeoutMs`. */
  waitForExit(timeoutMs = 10_000): Promise<ExitInfo> {
    return withTimeout(this.exited, timeoutMs, `${this.name} (pid ${this.pid}) to exit`, () => this.tail());
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 15): string {
    const out = this.stdoutLines.slice(-lines).join('\n');
    const err = this.stderrText.trimEnd().split('\n').slice(-lines).join('\n');
    return `--- ${this.name} (pid ${this.pid}) stdout (tail) ---\n${out || '(none)'}\n--- stderr (tail) ---\n${err || '(none)'}`;
  }

  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    let listener: (() => void) | undefined;
    const found = new Promise<T>((resolve, reject) => {
      listener = () => {
        try {
          const value = check();
          if (value !== undefined) resolve(value);
        } catch (err) {
          reject(err);
        }
      };
      this.changed.add(listener);
      listener();
    });
    return withTimeout(found, timeoutMs, `${what} from ${this.name}`, () => this.tail()).finally(() => {
      if (listener) this.changed.delete(listener);
    });
  }

  private onStdout(line: string): void {
    this.stdoutLines.push(line);
    if (line.startsWith('{')) {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed['msg'] === 'string' && typeof parsed['level'] === 'number') {
          this.lines.push({ ...parsed, receivedAt: Date.now() } as LogLine);
        }
      } catch {
        // not a log line (e.g. the producer's --json summary is JSON but has no msg)
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.changed]) listener();
  }
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** afterEach: SIGKILLs every app process still running and waits until each has exited. */
export async function killAllApps(): Promise<void> {
  const running = [...live];
  for (const proc of running) proc.signal('SIGKILL');
  await withTimeout(
    Promise.all(running.map((p) => p.exited)),
    5000,
    `${running.length} app process(es) to exit after SIGKILL`,
  );
}

/** Predicates on log lines. */
export const line = {
  msgStarts: (prefix: string) => (l: LogLine) => l.msg.startsWith(prefix),
  msgIncludes: (text: string) => (l: LogLine) => l.msg.includes(text),
  /** The worker's "pool of N sub-worker(s) serving queue …" line: it fetches from now on. */
  poolReady: (l: LogLine) => l.msg.startsWith('pool of ') && typeof l['consumer'] === 'string',
} as const;
