import { newConsumerId } from './ids';

describe('ids', () => {
  it('generates consumer ids as <host>-<pid>-<random>, a new one each time', () => {
    const id = newConsumerId();
    expect(id).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(newConsumerId()).not.toBe(id);
  });
});
