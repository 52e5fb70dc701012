import type { StatusRecord } from '@taskq/recorder';
import { StatusListeners } from './status-listeners';

const rec = (id: string, status: StatusRecord['status']): StatusRecord => ({ id, status, attempt: 0, at: 0, seq: 1 });

describe('StatusListeners', () => {
  it('skips a listener removed by an earlier callback of the same event', () => {
    const listeners = new StatusListeners(() => undefined);
    const calls: string[] = [];
    let offSecond = (): void => undefined;
    listeners.add('t1', '*', () => {
      calls.push('first');
      offSecond();
    });
    offSecond = listeners.add('t1', '*', () => calls.push('second'));
    listeners.emit(rec('t1', 'Queued'));
    expect(calls).toEqual(['first']);
    expect(listeners.size).toBe(1);
  });

  it('passes callback errors to onError with the record', () => {
    const errors: Array<[unknown, string]> = [];
    const listeners = new StatusListeners((err, record) => errors.push([err, record.id]));
    const boom = new Error('boom');
    listeners.add('*', 'Done', () => {
      throw boom;
    });
    listeners.emit(rec('t1', 'Queued'));
    listeners.emit(rec('t1', 'Done'));
    expect(errors).toEqual([[boom, 't1']]);
  });
});
