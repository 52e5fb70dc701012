import { rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

/**
 * Makes sure no redis-server outlives the process that started it: on the
 * process's 'exit' event every child still registered is SIGKILLed and every
 * temporary directory still registered is removed. 'exit' handlers must be
 * synchronous, hence kill() and rmSync.
 *
 * A process ended by a signal it does not handle emits no 'exit'; its
 * children then die only with their process group (a terminal's Ctrl-C does
 * reach them, as they are not spawned detached).
 */
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function onExit(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
}

export function guardChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function guardDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function releaseDir(dir: string): void {
  dirs.delete(dir);
}
