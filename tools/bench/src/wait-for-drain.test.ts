import type { Producer, Progress } from './systems/producer';
import { countingPolls, DrainError, nextPollDelay, waitForDrain } from './wait-for-drain';

/** A producer whose progress follows a script, one entry per poll (the last one repeats). */
function scripted(steps: Progress[]): Producer & { polls: number } {
  const p = {
    system: 'taskq' as const,
    polls: 0,
    enqueueBulk: async () => undefined,
    enqueueOne: async () => undefined,
    queued: async () => 0,
    progress: async () => steps[Math.min(p.polls++, steps.length - 1)],
    close: async () => undefined,
  };
  return p;
}

describe('nextPollDelay', () => {
  it('polls every 10 ms until a rate is known', () => {
    expect(nextPollDelay(1000, 0, 50)).toBe(10);
  });

  it('waits a quarter of the expected remaining time, between 2 and 50 ms', () => {
    // 1000 done in 100 ms: 10 per ms; 200 left: 20 ms to go -> 5 ms
    expect(nextPollDelay(200, 1000, 100)).toBe(5);
    expect(nextPollDelay(1_000_000, 1000, 100)).toBe(50);
    expect(nextPollDelay(1, 1000, 100)).toBe(2);
  });
});

describe('waitForDrain', () => {
  it('resolves with the time of the poll that saw every task finished', async () => {
    const producer = scripted([
      { remaining: 10, failed: 0 },
      { remaining: 4, failed: 0 },
      { remaining: 0, failed: 0 },
    ]);
    const before = performance.now();
    const at = await waitForDrain(producer, 10, before);
    expect(producer.polls).toBe(3);
    expect(at).toBeGreaterThan(before);
    expect(at).toBeLessThanOrEqual(performance.now());
  });

  it('fails as soon as any task failed', async () => {
    const producer = scripted([{ remaining: 5, failed: 1 }]);
    await expect(waitForDrain(producer, 10, performance.now())).rejects.toThrow(/1 task\(s\) failed/);
  });

  it('fails when no task finishes for stallMs', async () => {
    const producer = scripted([{ remaining: 7, failed: 0 }]);
    const err = await waitForDrain(producer, 10, performance.now(), () => undefined, 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrainError);
    expect((err as Error).message).toMatch(/7 of 10 task\(s\) still unfinished/);
  });

  it('stops at once when the worker is unhealthy', async () => {
    const producer = scripted([{ remaining: 7, failed: 0 }]);
    const healthy = (): void => {
      throw new Error('worker died');
    };
    await expect(waitForDrain(producer, 10, performance.now(), healthy)).rejects.toThrow('worker died');
    expect(producer.polls).toBe(0);
  });
});

describe('countingPolls', () => {
  it("counts waitForDrain's progress reads and passes their answers through", async () => {
    const producer = scripted([
      { remaining: 10, failed: 0 },
      { remaining: 3, failed: 0 },
      { remaining: 0, failed: 0 },
    ]);
    const counted = countingPolls(producer);
    expect(counted.polls()).toBe(0);
    await waitForDrain(counted.producer, 10, performance.now());
    expect(counted.polls()).toBe(3);
    expect(producer.polls).toBe(3);
  });
});
