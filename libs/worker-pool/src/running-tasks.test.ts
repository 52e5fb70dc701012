import { RunningTasks } from './running-tasks';
import type { RunningTask } from './task-runner';

const run = (id: string): RunningTask => ({ id }) as unknown as RunningTask;

describe('RunningTasks', () => {
  it('tracks runs in slots, counts them and finds them by id', () => {
    const tasks = new RunningTasks();
    const a = run('a');
    const b = run('42');
    const slotA = tasks.add(a);
    const slotB = tasks.add(b);
    expect(slotA).not.toBe(slotB);
    expect(tasks.size).toBe(2);
    expect(tasks.find('a')).toEqual([a]);
    expect(tasks.find('42')).toEqual([b]);
    expect(tasks.find('missing')).toEqual([]);
    expect(tasks.ids()).toEqual(['a', '42']);
    expect(tasks.values()).toEqual([a, b]);
    tasks.remove(slotA, a);
    expect(tasks.size).toBe(1);
    expect(tasks.find('a')).toEqual([]);
    expect(tasks.values()).toEqual([b]);
  });

  it('lists runs in the order they were added, also when freed slots are reused', () => {
    const tasks = new RunningTasks();
    const ids = ['900', 'b', '7', '__proto__', '12', 'a'];
    const slots = new Map(ids.map((id) => {
      const r = run(id);
      return [id, { slot: tasks.add(r), r }];
    }));
    const seven = slots.get('7')!;
    tasks.remove(seven.slot, seven.r);
    const b = slots.get('b')!;
    tasks.remove(b.slot, b.r);
    // the freed slots are reused, the order is still the order of adding
    tasks.add(run('late-1'));
    tasks.add(run('late-2'));
    expect(tasks.ids()).toEqual(['900', '__proto__', '12', 'a', 'late-1', 'late-2']);
    expect(tasks.size).toBe(6);
  });

  it('ignores a remove of a run that is not in the slot, and a second remove', () => {
    const tasks = new RunningTasks();
    tasks.remove(0, run('nope'));
    tasks.remove(5, run('nope'));
    expect(tasks.size).toBe(0);
    const x = run('x');
    const slot = tasks.add(x);
    tasks.remove(slot, run('x')); // another run object of the same id
    expect(tasks.size).toBe(1);
    tasks.remove(slot, x);
    tasks.remove(slot, x);
    expect(tasks.size).toBe(0);
    // the slot was freed once: two adds get two slots
    expect(tasks.add(run('y'))).not.toBe(tasks.add(run('z')));
  });

  it('tracks two runs of one task id each in its own slot (a task fetched again while its first run goes on)', () => {
    const tasks = new RunningTasks();
    const first = run('x');
    const second = run('x');
    const s1 = tasks.add(first);
    const s2 = tasks.add(second);
    expect(tasks.size).toBe(2);
    expect(tasks.find('x')).toEqual([first, second]);
    expect(tasks.ids()).toEqual(['x']);
    tasks.remove(s1, first);
    expect(tasks.find('x')).toEqual([second]);
    tasks.remove(s2, second);
    expect(tasks.find('x')).toEqual([]);
    expect(tasks.size).toBe(0);
    expect(tasks.ids()).toEqual([]);
  });

  it('keeps working after being emptied and refilled many times, without growing', () => {
    const tasks = new RunningTasks();
    const used = new Set<number>();
    for (let round = 0; round < 100; round++) {
      const runs = Array.from({ length: 50 }, (_, i) => run(String(round * 50 + i)));
      const slots = runs.map((r) => tasks.add(r));
      slots.forEach((s) => used.add(s));
      expect(tasks.size).toBe(50);
      runs.forEach((r, i) => tasks.remove(slots[i], r));
      expect(tasks.size).toBe(0);
    }
    expect(used.size).toBe(50);
    expect(tasks.ids()).toEqual([]);
  });
});
