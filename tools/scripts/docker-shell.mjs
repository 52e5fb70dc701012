// A bash process that runs commands one after another, as a user's terminal
// does: `eval`, `export` and `cd` carry over to the next command. Used by
// test-docker.mjs to run the README's Docker commands literally.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export class Shell {
  /** @param {{ cwd: string, env: NodeJS.ProcessEnv }} options */
  constructor({ cwd, env }) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.buffer = '';
    this.exited = false;
    /** @type {(() => void) | undefined} */
    this.onData = undefined;
    this.child.stdout.on('data', (d) => {
      this.buffer += d;
      this.onData?.();
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.onData?.();
    });
    // stderr into stdout, so that a command's output keeps its order
    this.child.stdin.write('exec 2>&1\n');
  }

  /**
   * Runs one command (stdin: /dev/null); resolves with its exit code, its
   * output (stdout and stderr) and how long it took. Rejects after timeoutMs,
   * and the shell is unusable then.
   * @param {string} command
   * @param {number} timeoutMs
   * @returns {Promise<{ code: number, out: string, ms: number }>}
   */
  run(command, timeoutMs) {
    if (this.onData) return Promise.reject(new Error(`the shell is busy; one command at a time: ${command}`));
    const marker = `__taskq_shell_${randomBytes(6).toString('hex')}__`;
    const t0 = performance.now();
    this.buffer = '';
    return new Promise((resolve, reject) => {
      const settle = () => {
        const m = new RegExp(`\\n?${marker} (\\d+)\\n`).exec(this.buffer);
        if (m) {
          clearTimeout(timer);
          this.onData = undefined;
          resolve({ code: Number(m[1]), out: this.buffer.slice(0, m.index), ms: performance.now() - t0 });
        } else if (this.exited) {
          clearTimeout(timer);
          reject(new Error(`the shell exited during: ${command}\n${this.buffer}`));
        }
      };
      const timer = setTimeout(() => {
        this.onData = undefined;
        this.kill();
        reject(new Error(`still running after ${timeoutMs / 1000} s: ${command}\n${this.buffer}`));
      }, timeoutMs);
      this.onData = settle;
      // braces, not a subshell: what the command sets stays set
      this.child.stdin.write(`{ ${command}\n} </dev/null\nprintf '\\n${marker} %s\\n' "$?"\n`);
    });
  }

  kill() {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
// touch
