import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(async () => {
  await killAllApps();
  await clients.close();
});

/** The --json summary line of a finished producer. */
function summaryOf(producer: AppProcess): Record<string, unknown> {
  return JSON.parse(producer.stdoutLines.at(-1) ?? 'null') as Record<string, unknown>;
}

describe('a waiting producer', () => {
  it('run again with the same --id-prefix once every task is final: counts them from the recorded statuses (no event comes) and exits 0', async () => {
    const queue = newQueueName('wait-again');
    const common = ['--redis', testRedisUrl(), '--queue', queue];
    const args = ['30', '--min-ms', '0', '--max-ms', '5', '--json', '--id-prefix', 'again_', ...common];
    const worker = AppProcess.start('worker', ['4', ...common]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const first = AppProcess.start('producer', args);
    const exit = await first.waitForExit(20_000);
    expect({ code: exit.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(summaryOf(first)).toMatchObject({ queue, total: 30, Done: 30 });
    worker.signal('SIGTERM');
    await worker.waitForExit(10_000);

    // nothing runs now: every task of the second run is final already
    const second = AppProcess.start('producer', args);
    const again = await second.waitForExit(15_000);
    expect({ code: again.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    expect(summaryOf(second)).toMatchObject({ queue, total: 30, Done: 30, Failed: 0, Dead: 0, Cancelled: 0 });
  });

  it('--timeout-ms with no worker: exit 1, saying how many tasks are still pending and naming a few', async () => {
    const queue = newQueueName('wait-timeout');
    const producer = AppProcess.start('producer', ['12', '--timeout-ms', '800', '--id-prefix', 'late_', '--redis', testRedisUrl(), '--queue', queue]);
    const exit = await producer.waitForExit(15_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
    expect(producer.stderr).toBe('error: timed out after 800 ms: 12 of 12 tasks still pending (late_1, late_2, late_3, late_4, late_5, …)\n');
  });
});
