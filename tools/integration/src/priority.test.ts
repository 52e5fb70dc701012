import { AppProcess, killAllApps, line } from './test-support/app-process';
import { newQueueName, testRedisUrl } from './test-support/redis-fixture';

afterEach(async () => {
  await killAllApps();
});

describe('priorities (the real apps)', () => {
  it('a worker with one sub-worker runs a backlog by priority, FIFO within each: --priority 9, then the default, then --priority 1', async () => {
    const queue = newQueueName('priority');
    const common = ['--redis', testRedisUrl(), '--queue', queue];
    const produce = async (args: string[]): Promise<void> => {
      const p = AppProcess.start('producer', ['3', '--no-wait', '--min-ms', '0', '--max-ms', '0', ...args, ...common]);
      const exit = await p.waitForExit(15_000);
      expect({ code: exit.code, stderr: p.stderr }).toEqual({ code: 0, stderr: '' });
    };
    // enqueued low first, so that neither arrival order nor ids decide
    await produce(['--priority', '1', '--id-prefix', 'low_']);
    await produce(['--id-prefix', 'mid_']);
    await produce(['--priority', '9', '--id-prefix', 'high_']);
    const worker = AppProcess.start('worker', ['1', ...common]);
    const starts = await worker.waitForLines(line.msgStarts('START '), 9, 'nine tasks started', 15_000);
    expect(starts.map((l) => l.msg.slice('START '.length))).toEqual(['high_1', 'high_2', 'high_3', 'mid_1', 'mid_2', 'mid_3', 'low_1', 'low_2', 'low_3']);
    await worker.waitForLines(line.msgStarts('DONE '), 9, 'nine tasks done');
  });

  it('--priority outside 0-9: usage error, exit 2, nothing enqueued', async () => {
    const p = AppProcess.start('producer', ['3', '--priority', '10', '--redis', testRedisUrl(), '--queue', newQueueName('priority-bad')]);
    expect((await p.waitForExit(10_000)).code).toBe(2);
    expect(p.stderr).toContain('--priority must be a whole number from 0 to 9, got 10');
  });
});
