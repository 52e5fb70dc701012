import type { Redis } from 'ioredis';
import { decodeStatusRecord } from '@taskq/recorder';
import { Queue, queueKeys } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { RedisClients } from './test-support/redis-fixture';
import { killAllShellCommands, NX_STARTUP_MS, ShellCommand } from './test-support/shell-command';
import { waitUntil } from './test-support/wait';

// The README's and the design's commands, typed as a person types them, through
// `sh -c` and the real `npx nx`: `--args=4` reaches Nx as a number, and the
// quoted form as one argument with blanks (stopping them: nx-stop.test.ts). The
// literal commands serve the
// queue `default`, so each test has a redis-server of its own. Each `npx nx`
// costs a few seconds before the app starts (project graph, the build it
// depends on: a cache hit, or with NX_SKIP_NX_CACHE=true as in CI, tsc finding
// everything up to date).

const clients = new RedisClients();
const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllShellCommands();
  await clients.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function ownServer(): Promise<{ url: string; redis: Redis }> {
  const server = await startRedisServer();
  servers.push(server);
  return { url: server.url, redis: await clients.connectServer(server.url) };
}

async function statuses(redis: Redis, queue: string): Promise<Map<string, string>> {
  const all = await redis.hgetall(queueKeys(queue).status);
  return new Map(Object.entries(all).map(([id, raw]) => [id, decodeStatusRecord(raw).status]));
}

const msgs = (cmd: ShellCommand) => cmd.jsonLines.map((l) => String(l['msg']));

describe('npx nx test <library>, as the README types it', () => {
  it('npx nx test monitor runs @taskq/monitor\'s unit tests (Nx finds the project by its short name)', async () => {
    const test = ShellCommand.run('npx nx test monitor');
    const exit = await test.waitForExit(90_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(test.output).toMatch(/Successfully ran target test for project @taskq\/monitor/);
    expect(test.output).toMatch(/Tests:\s+[1-9]\d* passed, [1-9]\d* total/);
  }, 120_000);
});

describe('npx nx run … --args, as the README types it', () => {
  it('worker:serve --args=4 and --args=8, then producer:serve --args=20: all 20 Done, producer exits 0 with its summary', async () => {
    const { url, redis } = await ownServer();
    const env = { REDIS_URL: url, LOG_FORMAT: 'json' };

    // terminal 1 and terminal 3 (one after the other: two Nx runs building at once would race)
    const worker4 = ShellCommand.run('npx nx run worker:serve --args=4', { env });
    const consumer4 = (await worker4.waitForOutput(/pool of 4 sub-worker\(s\) serving queue default as consumer (\S+)"/, 'the pool-ready line', NX_STARTUP_MS))[1];
    const worker8 = ShellCommand.run('npx nx run worker:serve --args=8', { env });
    const consumer8 = (await worker8.waitForOutput(/pool of 8 sub-worker\(s\) serving queue default as consumer (\S+)"/, 'the pool-ready line', NX_STARTUP_MS))[1];

    // terminal 2
    const producer = ShellCommand.run('npx nx run producer:serve --args=20', { env });
    const exit = await producer.waitForExit(NX_STARTUP_MS + 60_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(msgs(producer)).toContainEqual(expect.stringMatching(/^summary: 20\/20 Done, 0 Failed, 0 Dead, 0 Cancelled; wall time \d+\.\d\d s$/));

    const recorded = await statuses(redis, 'default');
    expect(recorded.size).toBe(20);
    expect([...recorded.values()].every((s) => s === 'Done')).toBe(true);
    // each task ran once, and both workers took part
    const started = (w: ShellCommand) => msgs(w).filter((m) => m.startsWith('START ')).map((m) => m.split(' ')[1]);
    expect([...started(worker4), ...started(worker8)].sort()).toEqual([...recorded.keys()].sort());
    expect(started(worker4).length).toBeGreaterThan(0);
    expect(started(worker8).length).toBeGreaterThan(0);

    // Both workers still serve; SIGTERM to each nx process stops its worker (nothing in flight).
    for (const [worker, consumer] of [[worker4, consumer4], [worker8, consumer8]] as const) {
      process.kill(await worker.nxPid(), 'SIGTERM');
      const stopped = await worker.waitForExit(30_000);
      // Nx ends a run it was asked to stop with 130, whatever the task did
      expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 130, signal: null });
      expect(msgs(worker)).toContain('stopped: 0 task(s) finished during the grace period, 0 put back');
      expect(await redis.zscore(queueKeys('default').consumers, consumer ?? '')).toBeNull();
    }
  }, 180_000);

  it('worker:serve --args=4, then producer:serve --args="5 --flow --min-ms 200 --max-ms 800": the flow of 16 steps ends FlowDone, progress lines, exit 0', async () => {
    const { url, redis } = await ownServer();
    const env = { REDIS_URL: url, LOG_FORMAT: 'json' };
    const worker = ShellCommand.run('npx nx run worker:serve --args=4', { env });
    await worker.waitForOutput(/pool of 4 sub-worker\(s\) serving queue default as consumer (\S+)"/, 'the pool-ready line', NX_STARTUP_MS);
    const producer = ShellCommand.run('npx nx run producer:serve --args="5 --flow --min-ms 200 --max-ms 800"', { env });
    const exit = await producer.waitForExit(90_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const lines = msgs(producer);
    const summary = lines.find((m) => m.startsWith('flow ') && m.includes(' FlowDone: '));
    expect(summary).toMatch(/^flow (flow_[0-9a-f]{4}) FlowDone: 16\/16 steps Done; slept \d+ ms in all; wall time \d+\.\d\d s$/);
    const flowId = /^flow (\S+) /.exec(summary ?? '')?.[1] ?? '';
    // one progress line per step, counting up to 16
    const progress = lines.filter((m) => m.startsWith(`flow ${flowId}: `)).map((m) => Number(/: (\d+)\/16 steps done/.exec(m)?.[1]));
    expect(progress).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // the callback ran last and added up every step's sleep (its own is 0 ms)
    const slept = Number(/slept (\d+) ms/.exec(summary ?? '')?.[1]);
    const payloads = await redis.hgetall(queueKeys('default').tasks);
    const sum = Object.entries(payloads)
      .filter(([id]) => id.startsWith(`${flowId}:`))
      .reduce((n, [, body]) => n + ((JSON.parse(body) as [number, string, { ms: number }])[2].ms ?? 0), 0);
    expect(slept).toBe(sum);
    expect(msgs(worker).filter((m) => m.startsWith('START ')).map((m) => m.split(' ')[1])).toHaveLength(16);
    process.kill(await worker.nxPid(), 'SIGTERM');
    await worker.waitForExit(30_000);
  }, 180_000);

  it('worker:serve --args="8 --queues critical:6,default:3,low:1" and the same with --strict (issue 14): each serves the three queues; all their tasks Done', async () => {
    const { url, redis } = await ownServer();
    const env = { REDIS_URL: url, LOG_FORMAT: 'json' };
    const names = ['critical', 'default', 'low'];
    const cases = [
      ['npx nx run worker:serve --args="8 --queues critical:6,default:3,low:1"', 'queues critical (weight 6), default (weight 3), low (weight 1)'],
      ['npx nx run worker:serve --args="8 --queues critical:6,default:3,low:1 --strict"', 'queues critical, default, low (strict: always the first that has ready tasks)'],
    ] as const;
    for (const [n, [command, serving]] of cases.entries()) {
      const worker = ShellCommand.run(command, { env });
      await worker.waitForOutput(new RegExp(`pool of 8 sub-worker\\(s\\) serving ${serving.replace(/[()]/g, '\\$&')} as consumer`), 'the pool-ready line', NX_STARTUP_MS);
      for (const name of names) {
        await new Queue({ queue: name, connection: redis }).enqueueMany(Array.from({ length: 10 }, (_, i) => ({ id: `t${n}-${i}`, type: 'sleep', payload: { ms: 5 } })));
      }
      await waitUntil(
        async () => {
          for (const name of names) {
            const recorded = await statuses(redis, name);
            if ([...recorded].filter(([id, status]) => id.startsWith(`t${n}-`) && status === 'Done').length !== 10) return false;
          }
          return true;
        },
        { what: `the 30 tasks of ${command} Done`, timeoutMs: 30_000 },
      );
      process.kill(await worker.nxPid(), 'SIGTERM');
      expect((await worker.waitForExit(30_000)).code).toBe(130);
      expect(msgs(worker)).toContain('stopped: 0 task(s) finished during the grace period, 0 put back');
    }
  }, 180_000);

  it('api:serve, then the README\'s curl commands as typed: the task is enqueued and read back, and the event stream shows the next one live', async () => {
    const { url, redis } = await ownServer();
    const api = ShellCommand.run('npx nx run api:serve', { env: { REDIS_URL: url, LOG_FORMAT: 'json' } });
    await api.waitForOutput(/API on http:\/\/127\.0\.0\.1:8080 /, 'the API-ready line', NX_STARTUP_MS);
    const post = ShellCommand.run(
      `curl -s -XPOST localhost:8080/queues/emails/tasks -H 'content-type: application/json' \\\n  -d '{"type":"send","payload":{"to":"a@example.com"},"id":"welcome-42","priority":7}'`,
    );
    expect((await post.waitForExit(15_000)).code).toBe(0);
    expect(JSON.parse(post.output)).toEqual({ tasks: [{ id: 'welcome-42', queue: 'emails', type: 'send', enqueuedAt: expect.any(Number) as number, priority: 7 }] });
    const get = ShellCommand.run('curl -s localhost:8080/tasks/emails/welcome-42');
    expect((await get.waitForExit(15_000)).code).toBe(0);
    expect(JSON.parse(get.output)).toMatchObject({ id: 'welcome-42', queue: 'emails', status: 'Queued', payload: { to: 'a@example.com' }, priority: 7 });
    const events = ShellCommand.run('curl -N http://127.0.0.1:8080/events');
    // the stream is curl's stdout; its progress meter (stderr, as stdout is no terminal here) may land between two chunks
    await events.waitForOutput(/retry: 1000\n\nid: emails=\d+\.\d+\.\d+\nevent: ready\ndata: \{"queues":\["emails"\],"replayed":0\}\n\n/, 'the stream ready, following queue emails', 30_000, 'stdout');
    await new Queue({ queue: 'emails', connection: redis }).enqueue({ type: 'send', payload: { to: 'b@example.com' }, id: 'welcome-43' });
    await events.waitForOutput(/id: emails=\d+\.\d+\.\d+\nevent: status\ndata: \{"queue":"emails","id":"welcome-43","status":"Queued","attempt":0,"at":\d+,"seq":\d+\}\n\n/, "welcome-43's Queued event", 30_000, 'stdout');
    process.kill(await api.nxPid(), 'SIGTERM');
    expect((await api.waitForExit(30_000)).code).toBe(130);
  }, 120_000);

  it('producer:demo --args="6 --min-ms 50 --max-ms 150": the demo on its embedded Redis, exit 0', async () => {
    const demo = ShellCommand.run('npx nx run producer:demo --args="6 --min-ms 50 --max-ms 150"', { env: { LOG_FORMAT: 'json' } });
    const exit = await demo.waitForExit(NX_STARTUP_MS + 30_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const lines = msgs(demo);
    expect(lines[0]).toBe('taskq demo: no REDIS_URL set, running on an embedded in-memory Redis inside this process');
    expect(lines).toContainEqual(expect.stringMatching(/^summary: 6\/6 Done, 0 Failed, 0 Dead, 0 Cancelled; wall time /));
  }, 150_000);

  it('--args with an unterminated quote: the command fails, naming the problem, and no worker starts', async () => {
    const worker = ShellCommand.run(`npx nx run worker:serve --args="4 --queue 'emails"`, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const exit = await worker.waitForExit(NX_STARTUP_MS + 30_000);
    expect(exit.code).toBe(1);
    expect(worker.output).toContain(`worker:serve: --args: unterminated single quote in "4 --queue 'emails"`);
    expect(worker.output).not.toContain('cannot connect to Redis');
  }, 150_000);
});
