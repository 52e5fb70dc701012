import type { Logger } from '@taskq/recorder';
import { EnqueueProgress } from './enqueue-progress';

function capture() {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const logger = { info: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
  return { logger, lines };
}

describe('EnqueueProgress', () => {
  it('logs a line every 100,000 tasks, with the share done and the rate, and none at the end', () => {
    const { logger, lines } = capture();
    const progress = new EnqueueProgress(logger, 'q', 250_000, 100_000, 3_600_000);
    for (let n = 10_000; n <= 250_000; n += 10_000) progress.update(n);
    expect(lines.map((l) => l.msg.replace(/, \d+ tasks\/s$/, ''))).toEqual([
      'enqueued 100000/250000 task(s) (40%)',
      'enqueued 200000/250000 task(s) (80%)',
    ]);
    expect(lines[0]?.fields).toMatchObject({ queue: 'q', enqueued: 100_000, total: 250_000 });
    expect(lines[0]?.msg).toMatch(/, \d+ tasks\/s$/);
  });

  it('logs a line after everyMs even when fewer tasks went in (a slow Redis)', () => {
    const { logger, lines } = capture();
    const progress = new EnqueueProgress(logger, 'q', 1000, 100_000, 0);
    progress.update(10);
    progress.update(20);
    expect(lines.map((l) => l.fields['enqueued'])).toEqual([10, 20]);
  });
});
