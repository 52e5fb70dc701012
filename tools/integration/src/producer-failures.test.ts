import { Queue, queueKeys } from '@taskq/queue';
import { FINAL_STATUSES } from '@taskq/recorder';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { recordedMany } from './test-support/recorded';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

describe('producer --fail-rate with a worker', () => {
  it('follows 20 tasks, some retried and some dead, to a final status each; the summary counts them and the monitor shows the retries', async () => {
    const url = testRedisUrl();
    const queue = newQueueName('fail-rate');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const common = ['--redis', url, '--queue', queue];
    const worker = AppProcess.start('worker', ['4', ...common]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');

    const prefix = `${queue}-t`;
    const producer = AppProcess.start('producer', [
      '20', '--fail-rate', '0.5', '--max-attempts', '2', '--retry-delay-ms', '50', '--min-ms', '10', '--max-ms', '30', '--json', '--id-prefix', prefix, ...common,
    ]);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, signal: exit.signal, stderr: producer.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const summary = JSON.parse(producer.stdoutLines.at(-1) ?? 'null') as Record<string, number>;
    expect(summary).toMatchObject({ queue, total: 20 });
    const counted = FINAL_STATUSES.map((s) => summary[s] ?? NaN);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(20);
    expect({ Failed: summary['Failed'], Cancelled: summary['Cancelled'] }).toEqual({ Failed: 0, Cancelled: 0 });

    // Each task's planned failures decide its fate: 0 -> Done at once, 1 -> Done on the retry, 2 -> Dead after 2 attempts.
    const ids = Array.from({ length: 20 }, (_, i) => `${prefix}${i + 1}`);
    const stored = await new Queue({ queue, connection: redis }).getTasks(ids);
    const planned = ids.map((id) => Number((stored.get(id)?.payload as { failAttempts?: number } | undefined)?.failAttempts ?? 0));
    const records = await recordedMany(redis, keys, ids);
    const fates = ids.map((id, i) => [id, planned[i], records[i]?.status, records[i]?.attempt]);
    const expected = ids.map((id, i) => {
      const f = planned[i] ?? 0;
      return [id, f, f >= 2 ? 'Dead' : 'Done', f === 0 ? 1 : 2];
    });
    expect(fates).toEqual(expected);
    expect(summary['Done']).toBe(planned.filter((f) => f < 2).length);
    expect(summary['Dead']).toBe(planned.filter((f) => f === 2).length);
    const deadIds = ids.filter((_, i) => planned[i] === 2);
    expect((await redis.lrange(keys.dead, 0, -1)).sort()).toEqual(deadIds.sort());

    // The producer's monitor logged a Retrying line for every task that failed once (half of them, on average).
    const retried = ids.filter((_, i) => (planned[i] ?? 0) >= 1);
    expect(retried.length).toBeGreaterThan(0);
    const retryingLines = producer.lines.filter((l) => /^\[Monitor\] Task \S+ is Retrying \(planned failure of attempt 1 \(fails [12]\)\)$/.test(l.msg));
    expect(retryingLines.map((l) => String(l['taskId'])).sort()).toEqual([...retried].sort());
    const summaryLine = producer.lines.find((l) => l.msg.startsWith('summary: '));
    expect(summaryLine?.msg).toMatch(new RegExp(`^summary: ${summary['Done']}/20 Done, 0 Failed, ${summary['Dead']} Dead, 0 Cancelled; wall time`));
  });
});
