import { checkRun } from './checks';
import { makePlan } from './plan';
import { detailLines, summaryLine, verdictLine, type RunFacts } from './summary';

const plan = makePlan({ tasks: 5000, seed: 3, failOnceShare: 0.1, failAlwaysShare: 0.05, maxMs: 20 });
const recorded = new Map(plan.map((t) => [t.id, { status: t.expectedStatus, attempt: t.expectedAttempts }] as const));
const succeeded = new Set(plan.filter((t) => t.expectedStatus === 'Done').map((t) => t.id));
const history = new Map(plan.map((t) => [t.id, [t.expectedStatus]] as const));
/** START lines per task as the plan needs them, plus `extra` on the first task. */
const startsWith = (extra: number) => new Map(plan.map((t, i) => [t.id, t.expectedAttempts + (i === 0 ? extra : 0)] as const));
const facts: RunFacts = {
  kills: 14,
  redisRestarts: 1,
  seed: 3,
  wallMs: 73_210,
  drainMs: 61_000,
  durationLimitMs: 90_000,
  workersStarted: 17,
  workersAtOnce: 3,
  unexpectedExits: 0,
  interrupted: 20,
};

describe('summaryLine', () => {
  it('reads exactly like the documented line', () => {
    const report = checkRun({ plan, recorded, stuck: new Map(), history, succeeded, starts: startsWith(37) });
    expect(summaryLine(report, facts)).toBe('chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart');
  });

  it('uses the singular and plural as counts require', () => {
    const report = checkRun({ plan: plan.slice(0, 1), recorded, stuck: new Map(), history, succeeded, starts: startsWith(1) });
    expect(summaryLine(report, { kills: 1, redisRestarts: 0 })).toBe(
      'chaos: 1 task, 0 lost, 0 stuck, 0 flipped, 1 repeated execution, 1 kill, 0 redis restarts',
    );
  });

  it('on a cluster (--cluster): begins chaos (cluster):, counts master restarts, and says the queues were on as many masters', () => {
    const report = checkRun({ plan, recorded, stuck: new Map(), history, succeeded, starts: startsWith(37) });
    const queues = [
      { name: 'chaos-critical', weight: 6 },
      { name: 'chaos-default', weight: 3 },
      { name: 'chaos-low-4', weight: 1 },
    ];
    expect(summaryLine(report, { ...facts, cluster: true, priorities: true, queues })).toBe(
      'chaos (cluster): 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 master restart, priorities 0-9, 3 queues weighted 6/3/1 on 3 masters',
    );
  });

  it('says so at the end when the workers ran as the limited ACL user (--acl-user)', () => {
    const report = checkRun({ plan, recorded, stuck: new Map(), history, succeeded, starts: startsWith(37) });
    expect(summaryLine(report, { ...facts, aclUser: true })).toBe(
      'chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart, workers as ACL user ~taskq:*',
    );
    expect(summaryLine(report, { ...facts, priorities: true, aclUser: true })).toBe(
      'chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart, priorities 0-9, workers as ACL user ~taskq:*',
    );
    expect(summaryLine(report, { ...facts, aclUser: true, handOff: true })).toBe(
      'chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart, workers as ACL user ~taskq:*, workers with --hand-off',
    );
    const queues = [
      { name: 'c', weight: 6 },
      { name: 'd', weight: 3 },
      { name: 'l', weight: 1 },
    ];
    expect(summaryLine(report, { ...facts, priorities: true, queues })).toBe(
      'chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart, priorities 0-9, 3 queues weighted 6/3/1',
    );
    // one queue says nothing
    expect(summaryLine(report, { ...facts, queues: [{ name: 'c', weight: 1 }] })).toBe(
      'chaos: 5000 tasks, 0 lost, 0 stuck, 0 flipped, 37 repeated executions, 14 kills, 1 redis restart',
    );
  });
});

describe('detailLines', () => {
  it('gives wall time, statuses, monitor coverage and executions, and names offenders of a failed check', () => {
    const lost = new Map(recorded);
    lost.delete(plan[0].id);
    const lines = detailLines(checkRun({ plan, recorded: lost, stuck: new Map(), history, succeeded, starts: startsWith(0) }), facts);
    expect(lines[0]).toBe('  wall time 73.2 s; every task final 61.0 s after the first enqueue');
    expect(lines[1]).toMatch(/^ {2}recorded statuses: Dead 250, Done 4749, none 1$/);
    expect(lines[2]).toBe('  monitor: final status seen for 5000 of 5000 tasks; 0 recorded final but not seen final (missed)');
    expect(lines).toContain(`  lost: ${plan[0].id}: no status record`);
  });

  it('says when the time limit passed first', () => {
    const lines = detailLines(checkRun({ plan, recorded, stuck: new Map(), history, succeeded, starts: startsWith(0) }), { ...facts, drainMs: undefined });
    expect(lines[0]).toBe('  wall time 73.2 s; time limit of 90.0 s passed before every task was final');
  });
});

describe('verdictLine', () => {
  it('says passed, or lists what failed', () => {
    expect(verdictLine([])).toBe('chaos: passed');
    expect(verdictLine(['2 lost', '2 stuck'])).toBe('chaos: FAILED: 2 lost, 2 stuck');
  });
});
