import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { Queue, queueKeys } from '@taskq/queue';
import { decodeStatusRecord } from '@taskq/recorder';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { RedisClients } from './test-support/redis-fixture';
import { killAllShellCommands, NX_STARTUP_MS, ShellCommand } from './test-support/shell-command';

// Stopping `npx nx run worker:serve …` as a person or a process manager does.
// Ctrl-C: the command runs under a real pseudo-terminal (util-linux `script`),
// sized like a window so that Nx would show its TUI unless nx.json turns it
// off, and '\x03' written to it is the keystroke; the worker logs readable
// lines there (not JSON), as a person sees them. SIGTERM: to the `nx` process,
// without a terminal. Each test has a redis-server of its own (the literal
// `--args=4` serves the queue `default`).

const clients = new RedisClients();
const servers: RedisServer[] = [];
const keys = queueKeys('default');
const CTRL_C = '\x03';

beforeAll(() => {
  // `script` is util-linux's (Debian: bsdutils); without it these tests cannot run
  execFileSync('script', ['--version']);
});

afterEach(async () => {
  await killAllShellCommands();
  await clients.close();
  for (const server of servers.splice(0)) await server.stop();
});

interface Running {
  readonly worker: ShellCommand;
  readonly redis: Redis;
  readonly consumer: string;
}

/** `npx nx run worker:serve --args=4` in a terminal, running one sleep task of `ms` (its START line seen). */
async function workerRunning(taskId: string, ms: number): Promise<Running> {
  const { url, redis } = await ownServer();
  const worker = ShellCommand.run('npx nx run worker:serve --args=4', {
    terminal: { rows: 40, columns: 200 },
    env: { REDIS_URL: url },
  });
  const consumer = (await worker.waitForOutput(/\[worker\] pool of 4 sub-worker\(s\) serving queue default as consumer (\S+)/, 'the pool-ready line', NX_STARTUP_MS))[1] ?? '';
  expect(await redis.zscore(keys.consumers, consumer)).not.toBeNull();
  await new Queue({ queue: 'default', connection: redis }).enqueue({ id: taskId, type: 'sleep', payload: { ms } });
  await worker.waitForOutput(new RegExp(`\\] START ${taskId}\\n`), `START ${taskId}`);
  return { worker, redis, consumer };
}

async function recordedStatus(redis: Redis, taskId: string) {
  return decodeStatusRecord((await redis.hget(keys.status, taskId)) ?? '');
}

async function ownServer(): Promise<{ url: string; redis: Redis }> {
  const server = await startRedisServer();
  servers.push(server);
  return { url: server.url, redis: await clients.connectServer(server.url) };
}

const msgs = (cmd: ShellCommand) => cmd.jsonLines.map((l) => String(l['msg']));

describe('Ctrl-C on npx nx run worker:serve --args=4 in a terminal', () => {
  it('stops the worker gracefully: the task in flight finishes (Done), stopped: is shown, the consumer leaves, exit 0', async () => {
    // longer than the 5 s Nx gives a task it stops itself: here Nx is not the one stopping it
    const { worker, redis, consumer } = await workerRunning('ctrl-c-1', 6000);
    worker.press(CTRL_C);
    await worker.waitForOutput(/\[worker\] SIGINT: stopping; in-flight tasks get 25000 ms/, 'the SIGINT line');

    const exit = await worker.waitForExit(30_000);
    // the run ends when the worker does, with its exit code
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(worker.output).toMatch(/\[worker-\d+-\d\] DONE ctrl-c-1 \(\d+\.\d\d s\)\n/);
    expect(worker.output).toContain('[worker] stopped: 1 task(s) finished during the grace period, 0 put back\n');
    expect(worker.output).toMatch(/Successfully ran target serve for project worker/);
    expect(worker.output).not.toMatch(/SIGINT again|SIGTERM/);
    expect(await recordedStatus(redis, 'ctrl-c-1')).toMatchObject({ status: 'Done', attempt: 1 });
    expect(await redis.zscore(keys.consumers, consumer)).toBeNull();
    expect(await redis.exists(keys.processing(consumer))).toBe(0);
  }, 150_000);

  it('a second Ctrl-C stops it at once: the task goes back (Queued), stopped: is shown, the consumer leaves, exit 0', async () => {
    const { worker, redis, consumer } = await workerRunning('ctrl-c-2', 30_000);
    worker.press(CTRL_C);
    await worker.waitForOutput(/\[worker\] stopping: waiting up to 25000 ms for 1 task\(s\)/, 'the grace-period line');
    const secondAt = Date.now();
    worker.press(CTRL_C);
    await worker.waitForOutput(/\[worker\] WARN SIGINT again: stopping now/, 'the second-Ctrl-C line');

    const exit = await worker.waitForExit(30_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - secondAt).toBeLessThan(10_000);
    expect(worker.output).toContain('[worker] stopped: 0 task(s) finished during the grace period, 1 put back\n');
    expect(await recordedStatus(redis, 'ctrl-c-2')).toMatchObject({
      status: 'Queued',
      attempt: 0,
      reason: `worker ${consumer} stopped before the task finished`,
    });
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['ctrl-c-2']);
    expect(await redis.zscore(keys.consumers, consumer)).toBeNull();
  }, 150_000);
});

describe('SIGTERM to the nx process of npx nx run worker:serve (no terminal)', () => {
  it('worker:serve --args="8 --queue emails --grace-ms 10000": serves emails; SIGTERM to nx lets the task in flight finish', async () => {
    const { url, redis } = await ownServer();
    const emails = queueKeys('emails');
    const worker = ShellCommand.run('npx nx run worker:serve --args="8 --queue emails --grace-ms 10000"', {
      env: { REDIS_URL: url, LOG_FORMAT: 'json' },
    });
    const consumer = (await worker.waitForOutput(/pool of 8 sub-worker\(s\) serving queue emails as consumer (\S+)"/, 'the pool-ready line', NX_STARTUP_MS))[1] ?? '';
    expect(await redis.zscore(emails.consumers, consumer)).not.toBeNull();

    // Longer than Nx's own 5 s before SIGKILL: the workspace's .env gives the worker the time.
    await new Queue({ queue: 'emails', connection: redis }).enqueue({ id: 'email-1', type: 'sleep', payload: { ms: 6000 } });
    await worker.waitForOutput(/"msg":"START email-1"/, 'START email-1');
    process.kill(await worker.nxPid(), 'SIGTERM');

    const exit = await worker.waitForExit(30_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 130, signal: null });
    const lines = msgs(worker);
    // one stop request, not the two Nx's tree kill sends (a second means "stop now")
    expect(lines.filter((m) => m.startsWith('SIGTERM'))).toEqual(['SIGTERM: stopping; in-flight tasks get 10000 ms (send again to stop now)']);
    expect(lines).toContain('stopping: waiting up to 10000 ms for 1 task(s)');
    expect(lines).toContainEqual(expect.stringMatching(/^DONE email-1 /));
    expect(lines).toContain('stopped: 1 task(s) finished during the grace period, 0 put back');
    expect(decodeStatusRecord((await redis.hget(emails.status, 'email-1')) ?? '')).toMatchObject({ status: 'Done', attempt: 1 });
    expect(await redis.zscore(emails.consumers, consumer)).toBeNull();
    expect(await redis.exists(emails.processing(consumer))).toBe(0);
  }, 150_000);
});
