import { RunningTasks } from './running-tasks';
import type { RunningTask } from './task-runner';

const run = (id: string): RunningTask => ({ id }) as unknown as RunningTask;

describe('RunningTasks', () => {
  it('tracks runs by id and counts them', () => {
    const tasks = new RunningTasks();
    const a = run('a');
    const b = run('42');
    tasks.set('a', a);
    tasks.set('42', b);
    expect(tasks.size).toBe(2);
    expect(tasks.get('a')).toBe(a);
    expect(tasks.get('42')).toBe(b);
    expect(tasks.get('missing')).toBeUndefined();
    expect(tasks.ids()).toEqual(['a', '42']);
    expect(tasks.values()).toEqual([a, b]);
  });

  it('lists ids in the order they were added, numeric-looking or not, as a Map would', () => {
    const tasks = new RunningTasks();
    const ids = ['900', 'b', '7', '__proto__', '12', 'a'];
    for (const id of ids) tasks.set(id, run(id));
    expect(tasks.ids()).toEqual(ids);
    tasks.deleteIf('7', tasks.get('7') as RunningTask);
    tasks.set('7', run('7'));
    tasks.set('900', run('900')); // a later run of the same id keeps its place
    expect(tasks.ids()).toEqual(['900', 'b', '__proto__', '12', 'a', '7']);
    expect(tasks.values().map((r) => r.id)).toEqual(['900', 'b', '__proto__', '12', 'a', '7']);
  });

  it('ignores a delete of an id it does not hold', () => {
    const tasks = new RunningTasks();
    tasks.deleteIf('nope', run('nope'));
    tasks.deleteIf('nope', undefined as unknown as RunningTask);
    expect(tasks.size).toBe(0);
    tasks.set('x', run('x'));
    expect(tasks.size).toBe(1);
  });

  it('a later run of the same id replaces the earlier one, which can no longer remove it', () => {
    const tasks = new RunningTasks();
    const first = run('x');
    const second = run('x');
    tasks.set('x', first);
    tasks.set('x', second);
    expect(tasks.size).toBe(1);
    tasks.deleteIf('x', first);
    expect(tasks.get('x')).toBe(second);
    tasks.deleteIf('x', second);
    expect(tasks.get('x')).toBeUndefined();
    expect(tasks.size).toBe(0);
    expect(tasks.ids()).toEqual([]);
  });

  it('takes any string as an id, including ones Object.prototype knows', () => {
    const tasks = new RunningTasks();
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(tasks.get(id)).toBeUndefined();
      const r = run(id);
      tasks.set(id, r);
      expect(tasks.get(id)).toBe(r);
    }
    expect(tasks.size).toBe(4);
    expect(tasks.ids()).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    for (const id of tasks.ids()) tasks.deleteIf(id, tasks.get(id) as RunningTask);
    expect(tasks.size).toBe(0);
  });

  it('keeps working after being emptied and refilled many times', () => {
    const tasks = new RunningTasks();
    for (let round = 0; round < 100; round++) {
      const runs = Array.from({ length: 50 }, (_, i) => run(String(round * 50 + i)));
      runs.forEach((r, i) => tasks.set(String(round * 50 + i), r));
      expect(tasks.size).toBe(50);
      runs.forEach((r, i) => tasks.deleteIf(String(round * 50 + i), r));
      expect(tasks.size).toBe(0);
    }
    expect(tasks.ids()).toEqual([]);
  });
});
