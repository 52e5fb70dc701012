import { AppProcess } from './app-process';
import { testRedisUrl } from './redis-fixture';

/** How a `taskq` run ended. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `taskq <args>` (the built CLI) on the test server to its end. */
export async function taskq(...args: string[]): Promise<Run> {
  const proc = AppProcess.start('cli', args, { env: { REDIS_URL: testRedisUrl() } });
  const exit = await proc.waitForExit(15_000);
  return { code: exit.code, stdout: proc.stdoutLines.join('\n'), stderr: proc.stderr };
}

/** `taskq <args> --json`: exit 0, and stdout is one JSON document. */
export async function taskqJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const run = await taskq(...args, '--json');
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}
