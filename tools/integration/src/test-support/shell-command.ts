import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeExit, type ExitInfo } from './app-process';
import { waitUntil, withTimeout } from './wait';

/** The workspace root, where a person types `npx nx …`. */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');

/**
 * Variables Nx sets for the task running these tests (NX_TASK_TARGET_PROJECT,
 * NX_INVOCATION_ROOT_PID, NX_TUI=false, NX_PROCESS_KILL_GRACE_PERIOD from
 * .env, FORCE_COLOR, …): a person's shell has none of them, so a command run
 * here must not either. Kept: the switches CI and a person set themselves,
 * NX_SKIP_NX_CACHE (CI's) among them. Without the daemon (NX_DAEMON=false) Nx
 * cannot tell that a cache hit's outputs are on disk already, so every hit
 * deletes each dependency's dist directory and copies it back from the cache:
 * a command typed here then pulled libs/queue/dist from under an app another
 * test file was starting at that moment (CI, cli-flow.test: "Cannot find
 * module './flow-spec'"). With the cache skipped, `tsc --build` finds the
 * builds up to date and writes nothing (about 2 s more per command here:
 * 9.5 s against 7.2 s for `npx nx run worker:build`).
 */
const KEPT_NX_VARIABLES = new Set(['NX_DAEMON', 'NX_NO_CLOUD', 'NX_SKIP_NX_CACHE']);

/** What Nx reads as "an AI agent is driving" (it then turns its TUI off): not a person's terminal. */
const AGENT_VARIABLES = ['CLAUDECODE', 'CLAUDE_CODE', 'CODEX_THREAD_ID', 'SUPERSET_AGENT_ID', 'CURSOR_TRACE_ID', 'GEMINI_CLI', 'REPL_ID', 'VSCODE_AGENT', 'OPENCODE', 'COPILOT_CLI'];

/** Output as a person reads it: without terminal colours and cursor moves, with plain line ends. */
function cleaned(text: string): string {
  // eslint-disable-next-line no-control-regex -- ESC is what a terminal escape sequence starts with
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n');
}

export interface ShellOptions {
  /** Set on top of the cleaned environment; undefined removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Run under a pseudo-terminal (util-linux `script`) of this size, as in a
   * person's terminal window: Nx then sees a terminal on stdin and stdout, and
   * `press('\x03')` is a Ctrl-C. CI and agent variables are removed, so that
   * Nx would show its TUI there unless nx.json turns it off.
   */
  readonly terminal?: { readonly rows: number; readonly columns: number };
}

const live = new Set<ShellCommand>();

/**
 * A command line as a person types it, run by `sh -c` in the workspace root
 * (or under a pseudo-terminal): its output collected as text, its exit
 * awaited. `killAllShellCommands()` (afterEach) SIGKILLs whatever it started.
 */
/**
 * How long an app started through `npx nx run …` may take to say it is ready: Nx builds its
 * project graph (plugin workers, no daemon in CI) and runs the builds the target depends on
 * before the app starts, 8-10 s on a quiet 2-core host and past 30 s while the other test
 * files load it (two CI runs timed out at 30 s waiting for the worker's pool-ready line).
 */
export const NX_STARTUP_MS = 75_000;

export class ShellCommand {
  private text = '';
  private stdoutText = '';
  private exit: ExitInfo | undefined;
  private readonly changed = new Set<() => void>();
  readonly exited: Promise<ExitInfo>;

  private constructor(
    readonly command: string,
    private readonly child: ChildProcess,
  ) {
    const append = (chunk: Buffer, fromStdout: boolean) => {
      const text = chunk.toString('utf8');
      this.text += text;
      if (fromStdout) this.stdoutText += text;
      this.notify();
    };
    child.stdout?.on('data', (chunk: Buffer) => append(chunk, true));
    child.stderr?.on('data', (chunk: Buffer) => append(chunk, false));
    this.exited = new Promise((resolveExit) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        live.delete(this);
        this.notify();
        resolveExit(this.exit);
      });
    });
  }

  static run(command: string, options: ShellOptions = {}): ShellCommand {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const key of Object.keys(env)) {
      if (key.startsWith('NX_') && !KEPT_NX_VARIABLES.has(key)) delete env[key];
    }
    delete env['FORCE_COLOR'];
    delete env['REDIS_URL'];
    delete env['TASKQ_DEBUG'];
    let argv: string[];
    if (options.terminal) {
      for (const key of ['CI', ...AGENT_VARIABLES]) delete env[key];
      const { rows, columns } = options.terminal;
      // `script` gives the command a terminal of its own; with no terminal around it, that one has no size until stty sets it
      argv = ['script', '-qfec', `stty rows ${rows} cols ${columns}; ${command}`, '/dev/null'];
    } else {
      argv = ['sh', '-c', command];
    }
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    // detached: a process group of its own, so that afterEach can end all of it
    const child = spawn(argv[0] ?? 'sh', argv.slice(1), { cwd: WORKSPACE_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const proc = new ShellCommand(command, child);
    live.add(proc);
    return proc;
  }

  /** Everything written so far (stdout and stderr), without terminal colours and cursor moves, with plain line ends. */
  get output(): string {
    return cleaned(this.text);
  }

  /**
   * What was written to stdout alone, cleaned as `output`: where stderr is
   * not part of what is looked for (curl's progress meter, written to stderr
   * when stdout is not a terminal, can land between two chunks of a stream).
   */
  get stdout(): string {
    return cleaned(this.stdoutText);
  }

  /** The output's lines that are JSON log records (LOG_FORMAT=json), parsed. */
  get jsonLines(): Array<Record<string, unknown>> {
    const records: Array<Record<string, unknown>> = [];
    for (const line of this.output.split('\n')) {
      const start = line.indexOf('{"level":');
      if (start < 0) continue;
      try {
        records.push(JSON.parse(line.slice(start)) as Record<string, unknown>);
      } catch {
        // a line cut by other output
      }
    }
    return records;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Keys typed into the command's terminal (stdin): '\x03' is Ctrl-C. */
  press(keys: string): void {
    this.child.stdin?.write(keys);
  }

  /** Resolves with the first match of `pattern` in the output (`from: 'stdout'`: in stdout alone), already there or still to come. */
  waitForOutput(pattern: RegExp, what: string, timeoutMs = 30_000, from: 'output' | 'stdout' = 'output'): Promise<RegExpMatchArray> {
    let listener: (() => void) | undefined;
    const found = new Promise<RegExpMatchArray>((resolveMatch, reject) => {
      listener = () => {
        const m = (from === 'stdout' ? this.stdout : this.output).match(pattern);
        if (m) resolveMatch(m);
        else if (this.exit) reject(new Error(`\`${this.command}\` exited (${describeExit(this.exit)}) before ${what}\n${this.tail()}`));
      };
      this.changed.add(listener);
      listener();
    });
    return withTimeout(found, timeoutMs, `${what} from \`${this.command}\``, () => this.tail()).finally(() => {
      if (listener) this.changed.delete(listener);
    });
  }

  waitForExit(timeoutMs: number): Promise<ExitInfo> {
    return withTimeout(this.exited, timeoutMs, `\`${this.command}\` to exit`, () => this.tail());
  }

  /** The pid of the `nx` process this command started (a descendant running node_modules/.bin/nx). */
  async nxPid(timeoutMs = 10_000): Promise<number> {
    return waitUntil(() => descendants(this.pid).find((pid) => commandLine(pid).some((arg) => arg.endsWith('/.bin/nx'))), {
      timeoutMs,
      what: `the nx process of \`${this.command}\``,
      intervalMs: 50,
    });
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 30): string {
    return `--- \`${this.command}\` (pid ${this.pid}) output (tail) ---\n${this.output.trimEnd().split('\n').slice(-lines).join('\n')}`;
  }

  private notify(): void {
    for (const listener of [...this.changed]) listener();
  }
}

/** afterEach: SIGKILLs every command still running, all of its processes, and waits until each has exited. */
export async function killAllShellCommands(): Promise<void> {
  const running = [...live];
  for (const proc of running) {
    // the app runs in a process group of its own (run-node): its pid is among the descendants
    for (const pid of [proc.pid, ...descendants(proc.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await withTimeout(Promise.all(running.map((p) => p.exited)), 5000, `${running.length} command(s) to exit after SIGKILL`);
}

/** Every process below `root` (Linux /proc). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name, in parentheses, may hold spaces: count the fields from its end
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const kid of children.get(pid) ?? []) {
      found.push(kid);
      queue.push(kid);
    }
  }
  return found;
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
