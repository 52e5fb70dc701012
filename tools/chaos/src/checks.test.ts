import type { TaskStatus } from '@taskq/recorder';
import { checkRun, failures, passed, type CheckInput } from './checks';
import { makePlan, type PlannedTask } from './plan';
import { StatusHistory } from './status-history';

const task = (id: string, kind: PlannedTask['kind']): PlannedTask => {
  const [t] = makePlan({ tasks: 1, seed: 1, failOnceShare: kind === 'fail-once' ? 1 : 0, failAlwaysShare: kind === 'fail-always' ? 1 : 0, maxMs: 5 });
  return { ...t, id };
};

/** A run where everything went right: each task final with its expected status, seen by the monitor. */
function cleanRun(): CheckInput & { recorded: Map<string, { status: TaskStatus; attempt: number; reason?: string }>; history: Map<string, TaskStatus[]> } {
  const plan = [task('a', 'ok'), task('b', 'fail-once'), task('c', 'fail-always')];
  return {
    plan,
    recorded: new Map([
      ['a', { status: 'Done', attempt: 1 }],
      ['b', { status: 'Done', attempt: 2 }],
      ['c', { status: 'Dead', attempt: 3 }],
    ]),
    stuck: new Map(),
    history: new Map<string, TaskStatus[]>([
      ['a', ['Queued', 'InProgress', 'Done']],
      ['b', ['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Done']],
      ['c', ['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Dead']],
    ]),
    starts: new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]),
    succeeded: new Set(['a', 'b']),
  };
}

describe('checkRun', () => {
  it('passes a clean run and counts no repeated executions', () => {
    const report = checkRun(cleanRun());
    expect(report).toMatchObject({ tasks: 3, lost: 0, stuck: 0, flipped: 0, monitorMissed: 0, attemptAnomalies: 0, repeated: 0, expectedStarts: 6 });
    expect(report.byStatus).toEqual({ Done: 2, Dead: 1 });
    expect(passed(report)).toBe(true);
  });

  it('counts repeated executions as START lines beyond what the plan needs', () => {
    const report = checkRun({ ...cleanRun(), starts: new Map([['a', 3], ['b', 3], ['c', 3]]) });
    expect(report).toMatchObject({ repeated: 3, starts: 9, expectedStarts: 6 });
    expect(passed(report)).toBe(true);
  });

  it('leaves tasks that did not end as expected out of the repeated count', () => {
    const run = cleanRun();
    run.recorded.set('c', { status: 'Queued', attempt: 1 }); // stuck after 1 of its 3 attempts
    const report = checkRun({ ...run, starts: new Map([['a', 2], ['b', 2], ['c', 1]]) });
    expect(report).toMatchObject({ repeated: 1, starts: 5, lost: 1 });
  });

  it('counts a task as lost when it has no record, is not final, or ends with the wrong status', () => {
    const run = cleanRun();
    run.recorded.delete('a');
    run.recorded.set('b', { status: 'InProgress', attempt: 2 });
    run.recorded.set('c', { status: 'Done', attempt: 3 });
    const report = checkRun(run);
    expect(report.lost).toBe(3);
    expect(report.examples.lost).toEqual(['a: no status record', 'b: still InProgress', 'c: Done, expected Dead (fail-always)']);
    expect(report.byStatus).toEqual({ none: 1, InProgress: 1, Done: 1 });
    expect(passed(report)).toBe(false);
  });

  it('counts ids left in a processing list, the ready list or the delayed set as stuck', () => {
    const report = checkRun({ ...cleanRun(), stuck: new Map([['a', 'taskq:{chaos}:processing:x'], ['b', 'taskq:{chaos}:ready']]) });
    expect(report.stuck).toBe(2);
    expect(report.examples.stuck).toEqual(['a: in taskq:{chaos}:processing:x', 'b: in taskq:{chaos}:ready']);
    expect(passed(report)).toBe(false);
  });

  it('counts a flip when the monitor delivers another status after a final one', () => {
    const run = cleanRun();
    run.history.set('a', ['Queued', 'InProgress', 'Done', 'Queued', 'InProgress', 'Done']);
    const report = checkRun(run);
    expect(report.flipped).toBe(1);
    expect(report.examples.flipped).toEqual(['a: monitor saw Done then Queued']);
    expect(passed(report)).toBe(false);
  });

  it('counts a flip when the final status the monitor saw differs from the recorded one', () => {
    const run = cleanRun();
    run.history.set('c', ['Queued', 'InProgress', 'Done']);
    const report = checkRun(run);
    expect(report.flipped).toBe(1);
    expect(report.examples.flipped).toEqual(['c: monitor saw Done, recorded Dead']);
  });

  it('does not count the same final status delivered twice (live event, then a resync) as a flip', () => {
    const run = cleanRun();
    run.history.set('a', ['Queued', 'InProgress', 'Done', 'Done']);
    expect(checkRun(run).flipped).toBe(0);
  });

  it('counts tasks recorded final that the monitor never saw final as monitor-missed', () => {
    const run = cleanRun();
    run.history.set('b', ['Queued', 'InProgress']);
    run.history.delete('c');
    const report = checkRun(run);
    expect(report).toMatchObject({ monitorMissed: 2, monitorSawFinal: 1 });
    expect(report.examples.monitorMissed).toEqual(['b: recorded Done, monitor saw Queued > InProgress', 'c: recorded Dead, monitor saw nothing']);
    expect(passed(report)).toBe(false);
  });

  it('does not blame the monitor for a task that never became final (that task is lost)', () => {
    const run = cleanRun();
    run.recorded.set('b', { status: 'InProgress', attempt: 2 });
    run.history.set('b', ['Queued', 'InProgress']);
    const report = checkRun(run);
    expect(report).toMatchObject({ monitorMissed: 0, monitorSawFinal: 2, lost: 1 });
  });

  it('flags a task that reached its status in fewer attempts than its plan allows', () => {
    const run = cleanRun();
    run.recorded.set('c', { status: 'Dead', attempt: 1 });
    const report = checkRun(run);
    expect(report.attemptAnomalies).toBe(1);
    expect(report.lost).toBe(0);
    expect(passed(report)).toBe(false);
  });
});

const diedUnder = 'its worker died while running it 5 times (recovered from dead consumer c)';

describe('checkRun on a task whose workers were killed under it too often', () => {
  it('accepts a planned-Done task that the janitor ended Dead without it ever succeeding', () => {
    const run = cleanRun();
    // attempt 1 failed as planned, then every run of attempt 2 was killed until the janitor gave up
    run.recorded.set('b', { status: 'Dead', attempt: 1, reason: diedUnder });
    run.history.set('b', ['Queued', 'InProgress', 'Retrying', 'Queued', 'InProgress', 'Queued', 'InProgress', 'Queued', 'InProgress', 'Dead']);
    const report = checkRun({ ...run, succeeded: new Set(['a']), starts: new Map([['a', 1], ['b', 3], ['c', 3]]) });
    expect(report).toMatchObject({ lost: 0, deadByKills: 1 });
    expect(report.examples.deadByKills).toEqual(['b: Dead after its workers died (fail-once, 3 START lines, none DONE)']);
    expect(passed(report)).toBe(true);
  });

  it('counts it as lost when it died of its own failures, or when a worker logged it DONE', () => {
    const early = cleanRun();
    early.recorded.set('b', { status: 'Dead', attempt: 3, reason: 'planned failure of attempt 3 (attempt 3 of 3)' });
    expect(checkRun({ ...early, succeeded: new Set(['a']) })).toMatchObject({ lost: 1, deadByKills: 0 });
    const succeeded = cleanRun();
    succeeded.recorded.set('b', { status: 'Dead', attempt: 1, reason: diedUnder });
    expect(checkRun(succeeded)).toMatchObject({ lost: 1, deadByKills: 0 });
  });
});

describe('StatusHistory', () => {
  it('keeps every delivered status in order and counts tasks seen final once', () => {
    const h = new StatusHistory();
    const rec = (id: string, status: TaskStatus, seq: number) => h.record({ id, status, attempt: 1, at: 0, seq });
    rec('a', 'Queued', 1);
    rec('a', 'Done', 2);
    rec('a', 'Done', 3);
    rec('b', 'Dead', 4);
    expect(h.statuses().get('a')).toEqual(['Queued', 'Done', 'Done']);
    expect(h.of('a').map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(h.finalCount).toBe(2);
    expect(h.of('zzz')).toEqual([]);
  });
});

describe('failures', () => {
  it('lists each failed check, including attempts that held a task too long', () => {
    const run = cleanRun();
    run.recorded.delete('a');
    expect(failures(checkRun(run), { slowHolds: 2, holdLimitMs: 10_000, unstartedFetches: 3 })).toEqual([
      '1 lost',
      '3 fetched but never handled by a live worker',
      '2 held InProgress longer than 10.0 s',
    ]);
    expect(failures(checkRun(cleanRun()))).toEqual([]);
  });
});
