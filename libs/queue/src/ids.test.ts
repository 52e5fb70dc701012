import { newConsumerId, newTaskId } from './ids';

describe('ids', () => {
  it('generates task ids of the documented shape, all distinct across many pool refills', () => {
    const ids = Array.from({ length: 5000 }, () => newTaskId());
    for (const id of ids) expect(id).toMatch(/^t_[0-9a-z]+_[0-9a-f]{10}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(-10))).size).toBe(ids.length);
  });

  it('generates consumer ids as <host>-<pid>-<random>', () => {
    const id = newConsumerId();
    expect(id).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(newConsumerId()).not.toBe(id);
  });
});
