import { queueKeys } from '@taskq/queue';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { processingLists } from './test-support/queue-state';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { StatusLog } from './test-support/status-log';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
let statusLog: StatusLog | undefined;

afterEach(async () => {
  await killAllApps();
  await statusLog?.stop();
  statusLog = undefined;
  await clients.close();
});

describe('a worker killed with SIGKILL', () => {
  it('has its tasks recovered by the janitor of a live worker within seconds, and every task still ends Done', async () => {
    const url = testRedisUrl();
    const queue = newQueueName('kill');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const log = await StatusLog.start(redis, queue);
    statusLog = log;
    const workerArgs = (n: number) => [String(n), '--redis', url, '--queue', queue, '--stale-after-ms', '3000', '--heartbeat-ms', '500'];

    const doomed = AppProcess.start('worker', workerArgs(3));
    const doomedConsumer = String((await doomed.waitForLine(line.poolReady, 'the pool-ready line'))['consumer']);

    // 6 tasks of 4-6 s: the doomed worker takes 3, the other 3 wait in the ready list.
    const producer = AppProcess.start('producer', [
      '6', '--min-ms', '4000', '--max-ms', '6000', '--json', '--id-prefix', `${queue}-t`, '--redis', url, '--queue', queue,
    ]);
    const started = await doomed.waitForLines(line.msgStarts('START '), 3, 'three START lines');
    const held = started.map((l) => String(l['taskId'])).sort();
    expect(await redis.lrange(keys.processing(doomedConsumer), 0, -1).then((ids) => ids.sort())).toEqual(held);

    doomed.signal('SIGKILL');
    const killed = await doomed.waitForExit(5000);
    expect(killed.signal).toBe('SIGKILL');
    const killedAt = killed.at;

    const survivor = AppProcess.start('worker', workerArgs(6));
    await survivor.waitForLine(line.poolReady, 'the pool-ready line');

    // The janitor returns each held task to the queue, naming the dead consumer.
    const requeued = await waitUntil(
      () => {
        const found = held.map((id) =>
          log.of(id).find((r) => r.status === 'Queued' && r.reason?.includes(doomedConsumer) && r.receivedAt >= killedAt),
        );
        return found.every((r) => r !== undefined) ? found : undefined;
      },
      { timeoutMs: 10_000, what: `the killed worker's tasks to be recorded Queued (recovered from ${doomedConsumer})`, details: () => log.describe(held) },
    );
    for (const record of requeued) {
      expect(record?.receivedAt - killedAt).toBeLessThan(10_000);
      // the run the kill interrupted does not count as an attempt
      expect(record?.attempt).toBe(0);
      expect(record?.reason).toBe(`recovered from dead consumer ${doomedConsumer}`);
    }

    // The producer's Monitor sees all 6 Done.
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, stderr: producer.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(producer.stdoutLines.at(-1) ?? 'null')).toMatchObject({ queue, total: 6, Done: 6, Failed: 0 });

    // The recovered tasks ran again, on the survivor, as attempt 1 (a crash is not a failed attempt); the dead consumer is gone.
    const finals = await redis.hmget(keys.status, ...held);
    for (const raw of finals) {
      const record = JSON.parse(raw ?? 'null') as { status: string; attempt: number; worker: string };
      expect(record).toMatchObject({ status: 'Done', attempt: 1 });
      expect(record.worker).toMatch(new RegExp(`^worker-${survivor.pid}-\\d+$`));
    }
    const rerun = survivor.linesStartingWith('START ').filter((l) => held.includes(String(l['taskId'])));
    expect(rerun.map((l) => [l['taskId'], l['attempt']]).sort()).toEqual(held.map((id) => [id, 1]));
    expect(await redis.zscore(keys.consumers, doomedConsumer)).toBeNull();
    expect(await processingLists(redis, keys)).toEqual({});
  });
});
