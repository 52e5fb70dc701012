import { ExecutionTally, parseWorkerLine } from './worker-log';

const line = (msg: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 30, time: 1, pid: 42, name: 'worker', taskId: 't1', attempt: 1, worker: 'worker-42-1', msg, ...fields });

describe('parseWorkerLine', () => {
  it('reads the verb, task, attempt and sub-worker of a task line', () => {
    expect(parseWorkerLine(line('START t1', { type: 'sleep' }))).toEqual({ verb: 'START', taskId: 't1', attempt: 1, worker: 'worker-42-1' });
    expect(parseWorkerLine(line('START t1', { type: 'sleep', handOff: true }))).toEqual({ verb: 'START', taskId: 't1', attempt: 1, worker: 'worker-42-1', handOff: true });
    expect(parseWorkerLine(line('DONE t1 (0.01 s)', { attempt: 2 }))?.verb).toBe('DONE');
    expect(parseWorkerLine(line('FAILED t1 (0.02 s): boom -> Retrying'))?.verb).toBe('FAILED');
    // a task the worker declares Dead without running it: no START, but handled
    expect(parseWorkerLine(line('DEAD t1: attempt 4 exceeds maxAttempts 3', { attempt: 4 }))).toEqual({
      verb: 'DEAD',
      taskId: 't1',
      attempt: 4,
      worker: 'worker-42-1',
    });
  });

  it('ignores lines that are not task lines', () => {
    expect(parseWorkerLine('not json')).toBeUndefined();
    expect(parseWorkerLine('{"broken')).toBeUndefined();
    expect(parseWorkerLine(JSON.stringify({ level: 30, msg: 'pool of 8 sub-worker(s) serving queue chaos' }))).toBeUndefined();
    // a message about another task than the bound one is not this task's line
    expect(parseWorkerLine(line('START t2'))).toBeUndefined();
    expect(parseWorkerLine(line('START t10'))).toBeUndefined();
  });
});

describe('ExecutionTally', () => {
  it('counts START lines and the executions that never logged an outcome', () => {
    const tally = new ExecutionTally();
    const ev = (verb: string, taskId: string, attempt: number, worker = 'w1') => tally.add({ verb, taskId, attempt, worker });
    ev('START', 'a', 1);
    ev('DONE', 'a', 1);
    ev('START', 'b', 1); // killed: no outcome
    ev('START', 'b', 2, 'w2');
    ev('DONE', 'b', 2, 'w2');
    ev('START', 'c', 1);
    ev('RETRY', 'c', 1);
    expect({ starts: tally.starts, interrupted: tally.interrupted, b: tally.startsOf('b') }).toEqual({ starts: 4, interrupted: 1, b: 2 });
  });

  it('counts DONE lines per task (a second one is a second accepted ack)', () => {
    const tally = new ExecutionTally();
    tally.add({ verb: 'DONE', taskId: 'a', attempt: 1, worker: 'w1' });
    tally.add({ verb: 'DONE', taskId: 'a', attempt: 2, worker: 'w2' });
    tally.add({ verb: 'DONE', taskId: 'b', attempt: 1, worker: 'w1' });
    tally.add({ verb: 'FINISHED', taskId: 'c', attempt: 1, worker: 'w1' });
    expect([...tally.perTaskDones()]).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });
});

describe('ExecutionTally.handled', () => {
  it('knows which sub-worker logged anything for an attempt, a DEAD without START included', () => {
    const tally = new ExecutionTally();
    tally.add({ verb: 'START', taskId: 'a', attempt: 1, worker: 'w1' });
    tally.add({ verb: 'DEAD', taskId: 'b', attempt: 4, worker: 'w2' });
    expect([tally.handled('a', 1, 'w1'), tally.handled('b', 4, 'w2'), tally.handled('a', 2, 'w1'), tally.handled('a', 1, 'w2')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
