import { encodeSchedule, InvalidScheduleError, nextTick, decodeSchedule } from './schedule';

const NOW = Date.UTC(2026, 11, 4, 3, 0, 0, 500); // 2026-12-04T03:00:00.500Z

describe('schedules: specs and ticks', () => {
  it('reads a cron expression in its time zone: 0 3 * * * in Europe/Oslo is 02:00 UTC in winter', () => {
    const s = decodeSchedule('nightly', encodeSchedule('nightly', { cron: '0 3 * * *', timezone: 'Europe/Oslo', task: { type: 'report' } }, NOW), 0);
    expect(s).toMatchObject({ name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Oslo', task: { type: 'report', payload: null } });
    expect(new Date(nextTick(s!, NOW)).toISOString()).toBe('2026-12-05T02:00:00.000Z');
    expect(new Date(nextTick({ cron: '*/15 * * * *' }, NOW)).toISOString()).toBe('2026-12-04T03:15:00.000Z');
    expect(new Date(nextTick({ cron: '*/2 * * * * *' }, NOW)).toISOString()).toBe('2026-12-04T03:00:02.000Z'); // six fields: seconds first
  });

  it('ticks a fixed interval at its multiples since 1970 (aligned to the clock), strictly after the time given', () => {
    const s = decodeSchedule('beat', encodeSchedule('beat', { everyMs: 5000, task: { type: 'ping', payload: { n: 1 }, priority: 8 } }, NOW), 0);
    expect(s).toMatchObject({ everyMs: 5000, task: { type: 'ping', payload: { n: 1 }, priority: 8 } });
    const at = (t: number) => new Date(nextTick(s!, t)).toISOString();
    expect(at(NOW)).toBe('2026-12-04T03:00:05.000Z');
    expect(at(NOW + 4499)).toBe('2026-12-04T03:00:05.000Z');
    expect(at(NOW + 4500)).toBe('2026-12-04T03:00:10.000Z');
    expect(new Date(nextTick({ everyMs: 300_000 }, NOW)).toISOString()).toBe('2026-12-04T03:05:00.000Z');
  });

  it('refuses what cannot tick, naming the schedule', () => {
    const bad: [string, Parameters<typeof encodeSchedule>[1], string][] = [
      ['x', { task: { type: 't' } }, 'schedule x: give cron or everyMs, exactly one'],
      ['x', { cron: '* * * * *', everyMs: 1000, task: { type: 't' } }, 'schedule x: give cron or everyMs, exactly one'],
      ['x', { everyMs: 999, task: { type: 't' } }, 'schedule x: everyMs must be a whole number >= 1000, got 999'],
      ['x', { cron: 'every day', task: { type: 't' } }, 'schedule x: CronPattern: invalid configuration format'],
      ['x', { cron: '0 3 * * *', timezone: 'Nowhere/X', task: { type: 't' } }, 'schedule x: Invalid time zone specified: Nowhere/X'],
      ['x', { everyMs: 1000, timezone: 'UTC', task: { type: 't' } }, 'schedule x: timezone goes with cron'],
      ['x', { everyMs: 1000, task: { type: 't', id: 'mine' } as never }, 'schedule x: the task takes no id, delayMs or runAt'],
      ['x', { everyMs: 1000, task: { type: 't', priority: 12 } }, 'schedule x: priority must be a whole number from 0 to 9, got 12'],
      ['x', { everyMs: 1000, task: { type: 't', payload: { n: Number.NaN } } }, 'schedule x:'],
      ['has space', { everyMs: 1000, task: { type: 't' } }, 'schedule name must be 1-100 characters of A-Z a-z 0-9 _ . : -, got "has space"'],
    ];
    for (const [name, spec, message] of bad) {
      let error: unknown;
      try {
        encodeSchedule(name, spec, NOW);
      } catch (err) {
        error = err;
      }
      expect({ name, spec: JSON.stringify(spec), thrown: error instanceof InvalidScheduleError }).toEqual({ name, spec: JSON.stringify(spec), thrown: true });
      expect({ name, message: (error as Error).message.slice(0, message.length) }).toEqual({ name, message });
      expect((error as InvalidScheduleError).code).toBe('TASKQ_INVALID_SCHEDULE');
    }
  });
});
