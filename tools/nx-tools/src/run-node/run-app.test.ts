import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// runApp (run-app.js) as the run-node executor runs it inside Nx, driven from
// outside: a supervisor process (test-support/supervise.js) runs a probe app
// that records the stop signals it gets. Nx's part is played by the tests:
// its tree kill signals the leaves of the task's process tree (here the
// app's sentinel), sometimes twice; a terminal's Ctrl-C signals a whole
// process group. The pseudo-terminal path (Ctrl-C as a keystroke) runs
// through the real `nx` in tools/integration (nx-stop.test.ts).

const SUPPORT = join(__dirname, 'test-support');

interface Supervised {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  waitForLine(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
}

const running: ChildProcess[] = [];
/** The apps' pids: an app runs in a process group of its own and outlives a SIGKILLed supervisor. */
const apps: number[] = [];

afterEach(() => {
  for (const proc of running.splice(0)) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  for (const pid of apps.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL'); // the app and its sentinel
    } catch {
      // already gone
    }
  }
});

/** `node supervise.js probe-app.js one 'two words'` in a temp dir; detached: a process group of its own. */
function supervise(env: Record<string, string> = {}): Supervised {
  const proc = spawn(process.execPath, [join(SUPPORT, 'supervise.js'), join(SUPPORT, 'probe-app.js'), 'one', 'two words'], {
    cwd: tmpdir(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  running.push(proc);
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const l of [...listeners]) l();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitForLine(pattern, what, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const m = line.match(pattern);
            if (m) {
              done();
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output:\n${lines.join('\n')}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Pids whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the command name, in parentheses, may hold spaces: fields count from its end
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Whether the sentinel has set up its signal handlers: a process that catches
 * SIGHUP (SigCgt in /proc/<pid>/status). Node catches SIGINT and SIGTERM
 * itself from its start, so only SIGHUP, which the sentinel handles in the
 * same tick as the others, tells.
 */
function sentinelReady(pid: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    return (BigInt(`0x${mask}`) & 1n) !== 0n; // SIGHUP is 1
  } catch {
    return false;
  }
}

/** The app's pid once it has said it is ready, and its sentinel's once that handles signals. */
async function started(s: Supervised): Promise<{ app: number; sentinel: number }> {
  const app = Number((await s.waitForLine(/^ready pid=(\d+)/, 'the app to start'))[1]);
  apps.push(app);
  const sentinel = await until(() => childPids(app).find(sentinelReady), "the app's sentinel to handle signals");
  return { app, sentinel };
}

const signalsGot = (s: Supervised) => s.lines.filter((l) => l.startsWith('got ')).map((l) => l.slice(4));

describe('runApp', () => {
  it('runs node <script> with the arguments as given, in the cwd, and resolves with its exit code', async () => {
    const s = supervise({ PROBE_EXIT_AT_ONCE: '1', PROBE_EXIT: '3' });
    expect(await s.exited).toBe(3);
    expect(s.lines).toEqual([`ready pid=${s.lines[0]?.match(/pid=(\d+)/)?.[1]} args=["one","two words"] cwd=${tmpdir()}`, 'supervisor: app exited 3']);
  });

  it("keeps the app from being a leaf: its one child is a sentinel (none from its worker thread), which ends with it", async () => {
    const s = supervise();
    const { app, sentinel } = await started(s);
    expect(childPids(app)).toEqual([sentinel]);
    expect(readFileSync(`/proc/${sentinel}/cmdline`, 'utf8')).toContain('sentinel.js');

    process.kill(s.proc.pid ?? 0, 'SIGTERM');
    expect(await s.exited).toBe(0);
    await until(() => (isRunning(sentinel) ? undefined : true), 'the sentinel to exit after the app');
  });

  it("Nx's tree kill (SIGTERM to the sentinel, again and again) reaches the app once, as SIGTERM", async () => {
    const s = supervise({ PROBE_STOP_MS: '1000' });
    const { sentinel } = await started(s);
    process.kill(sentinel, 'SIGTERM');
    await s.waitForLine(/^got SIGTERM$/, 'the first SIGTERM to reach the app');
    process.kill(sentinel, 'SIGTERM');
    process.kill(sentinel, 'SIGTERM');
    expect(await s.exited).toBe(0);
    expect(signalsGot(s)).toEqual(['SIGTERM']);
    expect(s.lines).toContain('stopped after SIGTERM');
  });

  it('passes on each signal to the supervisor: SIGTERM, then SIGINT (the worker\'s "stop now")', async () => {
    const s = supervise({ PROBE_STOP_MS: '1000' });
    await started(s);
    process.kill(s.proc.pid ?? 0, 'SIGTERM');
    await s.waitForLine(/^got SIGTERM$/, 'SIGTERM to reach the app');
    process.kill(s.proc.pid ?? 0, 'SIGINT');
    await s.waitForLine(/^got SIGINT$/, 'SIGINT to reach the app');
    expect(await s.exited).toBe(0);
    expect(signalsGot(s)).toEqual(['SIGTERM', 'SIGINT']);
  });

  it("a terminal's Ctrl-C to the supervisor's process group reaches the app once; Nx's tree kill after it, not at all", async () => {
    const s = supervise({ PROBE_STOP_MS: '1000' });
    const { sentinel } = await started(s);
    process.kill(-(s.proc.pid ?? 0), 'SIGINT'); // the whole group, as a terminal does
    await s.waitForLine(/^got SIGINT$/, 'SIGINT to reach the app');
    process.kill(sentinel, 'SIGTERM');
    expect(await s.exited).toBe(0);
    expect(signalsGot(s)).toEqual(['SIGINT']);
  });

  it('reports an app ended by a signal as 128 + its number', async () => {
    const s = supervise();
    const { app } = await started(s);
    process.kill(app, 'SIGKILL');
    expect(await s.exited).toBe(137);
    expect(s.lines).toContain('supervisor: app exited 137');
  });
});
