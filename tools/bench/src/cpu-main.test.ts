import { UsageError } from './args';
import { parseCpuArgs, runCpuProbe } from './cpu-main';

describe('parseCpuArgs', () => {
  it('defaults to taskq and lean-full, 200,000 tasks, two drains each', () => {
    expect(parseCpuArgs([])).toEqual({ systems: ['taskq', 'lean-full'], n: 200_000, repeat: 2, concurrency: 50 });
  });

  it('takes systems, n and repeat', () => {
    expect(parseCpuArgs(['--only', 'bullmq,lean', '--n', '5000', '--repeat', '3'])).toMatchObject({ systems: ['bullmq', 'lean'], n: 5000, repeat: 3 });
  });

  it.each([
    [['--only', 'nope']],
    [['--n', '0']],
    [['--repeat', '1.5']],
    [['--bogus']],
  ])('refuses %j with a usage error', (argv) => {
    expect(() => parseCpuArgs(argv)).toThrow(UsageError);
  });
});

describe('runCpuProbe (real redis-server)', () => {
  it('drains every task of each system and reports its rate and the CPU of both sides', async () => {
    const lines: string[] = [];
    const samples = await runCpuProbe({ systems: ['taskq', 'lean'], n: 500, repeat: 1, concurrency: 10 }, (l) => lines.push(l));
    expect(samples.map((s) => s.system)).toEqual(['taskq', 'lean']);
    for (const s of samples) {
      expect(s.tasksPerSec).toBeGreaterThan(0);
      // both sides did work: the worker process and redis-server spent CPU on 500 tasks (10 ms clock ticks for redis)
      expect(s.workerUs).toBeGreaterThan(0);
      expect(s.redisUs).toBeGreaterThanOrEqual(0);
    }
    expect(lines.some((l) => /^taskq +\d+ +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d$/.test(l))).toBe(true);
  }, 60_000);
});
