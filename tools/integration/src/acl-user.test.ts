import { Redis } from 'ioredis';
import { queueKeys } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { processingLists } from './test-support/queue-state';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

/**
 * The apps as a Redis user limited to taskq's keys and channels, with the
 * README's rule (`~taskq:* &taskq:* +@all -@dangerous`): the worker starts
 * (the version check needs no INFO), and a live worker's janitor recovers a
 * killed worker's tasks (its lock is under `taskq:`). Its own redis-server:
 * ACL users are server-wide.
 */
describe('the apps as an ACL user limited to taskq:* (README rule)', () => {
  let server: RedisServer;
  let admin: Redis;
  let statusLog: StatusLog | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { connectionName: 'taskq-it-admin' });
    await admin.call('ACL', 'SETUSER', 'tq', 'on', '>tq-pw', '~taskq:*', '&taskq:*', '+@all', '-@dangerous');
  });

  afterEach(async () => {
    await killAllApps();
    await statusLog?.stop();
    statusLog = undefined;
  });

  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it('runs a worker and a producer, and recovers the tasks of a worker killed with SIGKILL', async () => {
    const url = `redis://tq:tq-pw@127.0.0.1:${server.port}`;
    const queue = 'acl';
    const keys = queueKeys(queue);
    // the rule does what it says: this user may not touch other keys, nor run INFO
    const limited = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      await expect(limited.set('mutex:taskq:{acl}:janitor', 'x')).rejects.toThrow(/^NOPERM/);
      await expect(limited.info('server')).rejects.toThrow(/^NOPERM/);
    } finally {
      limited.disconnect();
    }
    const log = await StatusLog.start(admin, queue);
    statusLog = log;
    const workerArgs = (n: number) => [String(n), '--redis', url, '--queue', queue, '--stale-after-ms', '2000', '--heartbeat-ms', '500'];

    const doomed = AppProcess.start('worker', workerArgs(2));
    const doomedConsumer = String((await doomed.waitForLine(line.poolReady, 'the pool-ready line'))['consumer']);
    const producer = AppProcess.start('producer', ['4', '--min-ms', '2000', '--max-ms', '3000', '--json', '--id-prefix', 'acl-t', '--redis', url, '--queue', queue]);
    const started = await doomed.waitForLines(line.msgStarts('START '), 2, 'two START lines');
    const held = started.map((l) => String(l['taskId'])).sort();

    doomed.signal('SIGKILL');
    await doomed.waitForExit(5000);
    const survivor = AppProcess.start('worker', workerArgs(4));
    await survivor.waitForLine(line.poolReady, 'the pool-ready line');

    await waitUntil(() => held.every((id) => log.of(id).some((r) => r.status === 'Queued' && r.reason === `recovered from dead consumer ${doomedConsumer}`)), {
      timeoutMs: 15_000,
      what: `the killed worker's tasks to be recovered from ${doomedConsumer}`,
      details: () => log.describe(held),
    });
    const exit = await producer.waitForExit(30_000);
    expect(exit.code).toBe(0);
    // nothing on stderr but ioredis's own notice, once per connection, that it skips its INFO-based ready check
    const notice = /^Skipping the ready check because INFO command fails: "NOPERM .*'info' command"\. You can disable ready check with "enableReadyCheck"\. More: https:\/\/github\.com\/luin\/ioredis\/wiki\/Disable-ready-check\.$/;
    expect(producer.stderr.split('\n').filter((l) => l !== '' && !notice.test(l))).toEqual([]);
    expect(JSON.parse(producer.stdoutLines.at(-1) ?? 'null')).toMatchObject({ queue, total: 4, Done: 4, Failed: 0 });
    expect(await processingLists(admin, keys)).toEqual({});
    expect([...doomed.stdoutLines, ...survivor.stdoutLines].filter((l) => l.includes('NOPERM'))).toEqual([]);
  });
});
