import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServerStartError } from './errors/redis-server-start-error';
import { guardChild, guardDir, releaseDir } from './exit-guard';
import { findRedisServer } from './find-redis-server';
import { freePort } from './free-port';
import { OutputTail } from './output-tail';
import { respCommand } from './resp';

/** Options of `startRedisServer`. */
export interface RedisServerOptions {
  /**
   * Turn on the append-only file with `appendfsync always`, so every
   * acknowledged write survives `restart()` and `kill()` + `restart()`.
   * Default false: no persistence at all (`--save "" --appendonly no`).
   */
  readonly persistence?: boolean;
  /**
   * Working directory of the server (AOF files). Created if missing and never
   * removed. Default: a fresh temporary directory, kept across restarts and
   * removed by `stop()` or when this process exits.
   */
  readonly dir?: string;
  /** TCP port on 127.0.0.1. Default: a free port picked by the kernel (retried if taken meanwhile). */
  readonly port?: number;
  /** Extra redis-server arguments, appended last so they override the defaults. Default none. */
  readonly args?: readonly string[];
  /**
   * A configuration file's text, written to `<dir>/redis.conf` and given as
   * the first argument (before the harness's own arguments and `args`). A
   * sentinel needs one: it rewrites it with what it learns. Default none.
   */
  readonly configText?: string;
  /** How long to wait for the server to answer PING, in ms. Default 10000. */
  readonly startTimeoutMs?: number;
}

/** A redis-server child process on 127.0.0.1, owned by this process. */
export interface RedisServer {
  /** Port it listens on; the same after `restart()`. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** pid of the current (or last) redis-server process; changes on `restart()`. */
  readonly pid: number;
  /** Its working directory. */
  readonly dir: string;
  /**
   * SIGTERM, wait for exit, SIGKILL after 5 s. Removes the temporary
   * directory if the harness made it, so a later `restart()` starts empty.
   */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash. The directory is kept for `restart()`. */
  kill(): Promise<void>;
  /** Stops the server if it runs (as `stop()`, keeping the directory) and starts it again on the same port and directory. */
  restart(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 20;
/** How often a free port is picked again when another process took it first. */
const PORT_ATTEMPTS = 5;

/** Resolves true when `promise` settles within `ms`, false otherwise; the timer keeps the event loop alive meanwhile. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class ManagedRedisServer implements RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private lastPid = 0;
  private readonly output = new OutputTail();
  /** Serializes stop/kill/restart so that two of them never race on one child. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly binary: string,
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly argv: readonly string[],
    private readonly startTimeoutMs: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.lastPid;
  }

  stop(): Promise<void> {
    return this.serial(async () => {
      await this.terminate(true);
      if (this.ownsDir) {
        rmSync(this.dir, { recursive: true, force: true });
        releaseDir(this.dir);
      }
    });
  }

  kill(): Promise<void> {
    return this.serial(() => this.terminate(false));
  }

  restart(): Promise<void> {
    return this.serial(async () => {
      await this.terminate(true);
      await this.launch();
    });
  }

  /** Spawns redis-server and resolves once it answers PING; on failure, no child is left running. */
  async launch(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (this.ownsDir) guardDir(this.dir);
    this.output.reset();
    const child = spawn(this.binary, [...this.argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
    });
    this.child = child;
    this.lastPid = child.pid ?? 0;
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk));
    // A forgotten server must not keep the test process alive: the exit guard kills it then.
    guardChild(child);
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();

    const deadline = Date.now() + this.startTimeoutMs;
    let lastError: unknown;
    for (;;) {
      if (spawnError !== undefined || !this.isRunning()) {
        await this.exited;
        const how = spawnError
          ? `could not be spawned (${spawnError.message})`
          : `exited (code ${child.exitCode}, signal ${child.signalCode}) before answering PING`;
        throw new RedisServerStartError(`redis-server on port ${this.port} ${how}`, this.output.toString(), {
          cause: spawnError,
        });
      }
      try {
        if ((await respCommand(this.port, ['PING'], 1000)) === 'PONG') {
          await this.assertOwnsPort(child);
          return;
        }
      } catch (err) {
        if (err instanceof RedisServerStartError) throw err;
        lastError = err; // not listening yet, or -LOADING while it replays the AOF
      }
      if (Date.now() >= deadline) {
        await this.terminate(false);
        throw new RedisServerStartError(
          `redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms`,
          this.output.toString(),
          { cause: lastError },
        );
      }
      await within(this.exited, POLL_INTERVAL_MS);
    }
  }

  /** Output captured from the current process, for error messages. */
  outputTail(): string {
    return this.output.toString();
  }

  /** PONG may come from another process that holds the port; make sure it is ours. */
  private async assertOwnsPort(child: ChildProcess): Promise<void> {
    const info = await respCommand(this.port, ['INFO', 'server'], 1000);
    const pid = Number(/process_id:(\d+)/.exec(String(info))?.[1]);
    if (pid === child.pid) return;
    await this.terminate(false);
    throw new RedisServerStartError(
      `port ${this.port} is answered by another redis-server (pid ${pid}), not the one started (pid ${child.pid})`,
      this.output.toString(),
    );
  }

  private isRunning(): boolean {
    const child = this.child;
    return child !== undefined && child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  private async terminate(graceful: boolean): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.isRunning()) return;
    if (graceful) {
      child.kill('SIGTERM');
      if (await within(this.exited, STOP_GRACE_MS)) return;
    }
    child.kill('SIGKILL');
    if (!(await within(this.exited, STOP_GRACE_MS))) {
      throw new Error(`redis-server pid ${child.pid} did not exit after SIGKILL`);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.pending.then(fn, fn);
    this.pending = run.catch(() => undefined);
    return run;
  }
}

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  return [
    ...(options.configText !== undefined ? [join(dir, 'redis.conf')] : []),
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    ...(options.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    '--dir', dir,
    '--daemonize', 'no',
    ...(options.args ?? []),
  ];
}

/**
 * Starts a redis-server child process on 127.0.0.1 and resolves once it
 * answers PING. Throws RedisServerNotFoundError when `redis-server` is not on
 * PATH, RedisServerStartError (with the server's output) when it does not
 * come up. The child is SIGKILLed when this process exits.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'taskq-redis-'));
  if (ownsDir) guardDir(dir);
  const timeout = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    if (options.configText !== undefined) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'redis.conf'), options.configText);
    }
    const server = new ManagedRedisServer(binary, port, dir, ownsDir, serverArgs(port, dir, options), timeout);
    try {
      await server.launch();
      return server;
    } catch (err) {
      const portTaken = err instanceof RedisServerStartError && /address already in use/i.test(err.outputTail);
      if (portTaken && attempt < attempts) continue;
      if (ownsDir) {
        rmSync(dir, { recursive: true, force: true });
        releaseDir(dir);
      }
      throw err;
    }
  }
}
