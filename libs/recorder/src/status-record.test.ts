import { decodeStatusMessage, decodeStatusRecord } from './status-record';
import { InvalidStatusRecordError } from './errors/invalid-status-record-error';
import { ALL_STATUSES, FINAL_STATUSES, isFinalStatus, isTaskStatus, TaskStatus } from './status';

const valid = { id: 't-1', status: 'InProgress', attempt: 2, at: 1_790_000_000_123, seq: 41 };

function decodeError(raw: string): InvalidStatusRecordError {
  try {
    decodeStatusRecord(raw);
  } catch (err) {
    if (err instanceof InvalidStatusRecordError) return err;
    throw err;
  }
  throw new Error(`decoded without error: ${raw}`);
}

describe('decodeStatusRecord', () => {
  it('decodes a full record', () => {
    const raw = JSON.stringify({ ...valid, worker: 'host:1:w0', reason: 'released on shutdown' });
    expect(decodeStatusRecord(raw)).toEqual({ ...valid, worker: 'host:1:w0', reason: 'released on shutdown' });
  });

  it('leaves out absent optional fields rather than setting them undefined', () => {
    const record = decodeStatusRecord(JSON.stringify(valid));
    expect(record).toEqual(valid);
    expect('worker' in record).toBe(false);
    expect('reason' in record).toBe(false);
  });

  it('drops optional fields of the wrong type and unknown fields', () => {
    const record = decodeStatusRecord(JSON.stringify({ ...valid, worker: 7, reason: null, extra: 'x' }));
    expect(record).toEqual(valid);
  });

  it.each(ALL_STATUSES)('accepts the status %s', (status) => {
    expect(decodeStatusRecord(JSON.stringify({ ...valid, status })).status).toBe(status);
  });

  it.each(['id', 'status', 'attempt', 'at', 'seq'])('rejects a record without %s', (field) => {
    const partial: Record<string, unknown> = { ...valid };
    delete partial[field];
    expect(decodeError(JSON.stringify(partial)).name).toBe('InvalidStatusRecordError');
  });

  it.each([
    ['id', 5],
    ['attempt', '2'],
    ['at', '1790000000123'],
    ['seq', null],
  ])('rejects a record whose %s is of the wrong type', (field, value) => {
    expect(() => decodeStatusRecord(JSON.stringify({ ...valid, [field]: value }))).toThrow(InvalidStatusRecordError);
  });

  it.each(['Exploded', 'done', 'Stalled', ''])('rejects the unknown status %j', (status) => {
    expect(() => decodeStatusRecord(JSON.stringify({ ...valid, status }))).toThrow(InvalidStatusRecordError);
  });

  it('rejects bad JSON, keeping the parse error as cause', () => {
    const err = decodeError('{"id":"t-1",');
    expect(err.cause).toBeInstanceOf(SyntaxError);
    expect(err.message).toContain('{"id":"t-1",');
  });

  it.each(['null', '42', '"Done"', 'true', '[]', ''])('rejects the non-record %j', (raw) => {
    expect(() => decodeStatusRecord(raw)).toThrow(InvalidStatusRecordError);
  });

  it('quotes at most 200 characters of the bad input', () => {
    const raw = `not json ${'x'.repeat(5000)}`;
    const err = decodeError(raw);
    expect(err.message).toContain(raw.slice(0, 200));
    expect(err.message).not.toContain(raw.slice(0, 201));
  });
});

describe('decodeStatusMessage', () => {
  it('decodes every record of a message, in order', () => {
    const second = { ...valid, id: 't-2', status: 'Done', seq: 42, worker: 'w' };
    expect(decodeStatusMessage(JSON.stringify([valid, second]))).toEqual([valid, second]);
  });

  it('decodes an empty list to no records', () => {
    expect(decodeStatusMessage('[]')).toEqual([]);
  });

  it.each([JSON.stringify(valid), 'null', '"x"', '{"id":', `[${JSON.stringify(valid)},{"id":"t-3"}]`])(
    'rejects %j as a whole (a lone record, not JSON, or one bad record)',
    (raw) => {
      expect(() => decodeStatusMessage(raw)).toThrow(InvalidStatusRecordError);
    },
  );
});

describe('status helpers', () => {
  it('knows the final statuses', () => {
    expect(FINAL_STATUSES).toEqual([TaskStatus.Done, TaskStatus.Failed, TaskStatus.Dead, TaskStatus.Cancelled]);
    for (const s of [TaskStatus.Done, TaskStatus.Failed, TaskStatus.Dead, TaskStatus.Cancelled]) expect(isFinalStatus(s)).toBe(true);
    for (const s of [TaskStatus.Queued, TaskStatus.Delayed, TaskStatus.InProgress, TaskStatus.Retrying]) expect(isFinalStatus(s)).toBe(false);
  });

  it('recognises status strings only', () => {
    expect(isTaskStatus('Queued')).toBe(true);
    expect(isTaskStatus('queued')).toBe(false);
    expect(isTaskStatus(undefined)).toBe(false);
    expect(isTaskStatus(1)).toBe(false);
  });
});
