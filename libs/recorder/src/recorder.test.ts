import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { testRecordKeys } from './test-support/record-keys';
import { StatusRecorder } from './recorder';
import { InvalidStatusRecordError } from './errors/invalid-status-record-error';
import { record } from './test-support/record-script';

// ioredis-mock instances on one host:port share data: one port per test.
let nextPort = 48_000;
const open: Redis[] = [];
let redis: Redis;

beforeEach(() => {
  redis = new RedisMock({ port: nextPort++ });
  open.push(redis);
});

afterEach(() => {
  for (const r of open.splice(0)) r.disconnect();
});

function recorderFor(queue: string, prefix?: string): StatusRecorder {
  return new StatusRecorder(redis, testRecordKeys(queue, prefix));
}

/** A record as the Lua prelude would write it, for bulk set-up without thousands of script runs. */
function rawRecord(id: string, status: string, seq: number): string {
  return JSON.stringify({ id, status, attempt: 1, at: 1_790_000_000_000 + seq, seq });
}

describe('StatusRecorder', () => {
  it('uses the keys it is given for its channel', () => {
    const recorder = recorderFor('emails', 'tenant7');
    expect(recorder.keys).toEqual(expect.objectContaining({ status: 'tenant7:{emails}:status' }));
    expect(recorder.channel).toBe('tenant7:{emails}:events');
    expect(recorderFor('emails').channel).toBe('taskq:{emails}:events');
  });

  describe('get', () => {
    it('returns undefined for a task with no record', async () => {
      expect(await recorderFor('q').get('nope')).toBeUndefined();
    });

    it('returns the latest record written by the prelude', async () => {
      const recorder = recorderFor('q');
      await record(redis, recorder.keys, { id: 't1', status: 'Queued', attempt: 0 });
      expect(await recorder.get('t1')).toMatchObject({ id: 't1', status: 'Queued', seq: 1 });
      await record(redis, recorder.keys, { id: 't1', status: 'Failed', attempt: 1, worker: 'w', reason: 'boom\n"x"' });
      expect(await recorder.get('t1')).toMatchObject({ status: 'Failed', attempt: 1, seq: 2, worker: 'w', reason: 'boom\n"x"' });
    });

    it('reads only its own queue', async () => {
      await record(redis, testRecordKeys('a'), { id: 't1', status: 'Done', attempt: 1 });
      expect(await recorderFor('b').get('t1')).toBeUndefined();
      expect(await recorderFor('a', 'other').get('t1')).toBeUndefined();
      expect((await recorderFor('a').get('t1'))?.status).toBe('Done');
    });

    it('reads an enqueued task with no stored record as Queued from its body (attempt 0, seq 0, at = enqueue time)', async () => {
      const recorder = recorderFor('q');
      await redis.hset(recorder.keys.tasks, 'e1', '[1790000000123,"t",{"x":1}]');
      expect(await recorder.get('e1')).toEqual({ id: 'e1', status: 'Queued', attempt: 0, at: 1790000000123, seq: 0 });
      // once the task moves, its stored record is what counts
      await record(redis, recorder.keys, { id: 'e1', status: 'InProgress', attempt: 1 });
      expect(await recorder.get('e1')).toMatchObject({ status: 'InProgress', attempt: 1 });
      // a body of another shape stands for nothing
      await redis.hset(recorder.keys.tasks, 'e2', 'not an array');
      expect(await recorder.get('e2')).toBeUndefined();
    });

    it('rejects a corrupted record', async () => {
      const recorder = recorderFor('q');
      await redis.hset(recorder.keys.status, 'bad', '{"id":"bad","status":"Weird","attempt":0,"at":1,"seq":1}');
      await expect(recorder.get('bad')).rejects.toBeInstanceOf(InvalidStatusRecordError);
    });
  });

  describe('getMany', () => {
    it('returns an empty map for no ids', async () => {
      const result = await recorderFor('q').getMany([]);
      expect(result.size).toBe(0);
    });

    it('maps every asked id to its record or undefined, in the order asked', async () => {
      const recorder = recorderFor('q');
      await record(redis, recorder.keys, { id: 'a', status: 'Queued', attempt: 0 });
      await record(redis, recorder.keys, { id: 'c', status: 'InProgress', attempt: 1, worker: 'w2' });
      await redis.hset(recorder.keys.tasks, 'q', '[1790000000123,"t",null]');
      const result = await recorder.getMany(['c', 'missing', 'q', 'a']);
      expect([...result.keys()]).toEqual(['c', 'missing', 'q', 'a']);
      expect(result.get('q')).toMatchObject({ id: 'q', status: 'Queued', seq: 0 });
      expect(result.get('c')).toMatchObject({ id: 'c', status: 'InProgress', worker: 'w2', seq: 2 });
      expect(result.has('missing')).toBe(true);
      expect(result.get('missing')).toBeUndefined();
      expect(result.get('a')).toMatchObject({ id: 'a', status: 'Queued', seq: 1 });
    });
  });

  describe('countByStatus', () => {
    it('returns no counts for an empty queue', async () => {
      expect(await recorderFor('empty').countByStatus()).toEqual({});
    });

    it('counts the current status of every task, over more records than one scan page', async () => {
      const recorder = recorderFor('big');
      const statuses = ['Queued', 'InProgress', 'Done', 'Failed'];
      const expected: Record<string, number> = {};
      const fields: string[] = [];
      const bodies: string[] = [];
      for (let i = 0; i < 2500; i++) {
        // Uneven split so that a miscount shows: status i%4 for most, Done for every 7th.
        const status = i % 7 === 0 ? 'Done' : statuses[i % 4];
        expected[status] = (expected[status] ?? 0) + 1;
        bodies.push(`t${i}`, `[1790000000000,"t",${i}]`);
        // a task that is still where enqueue put it has its body only
        if (status !== 'Queued') fields.push(`t${i}`, rawRecord(`t${i}`, status, i + 1));
      }
      await redis.hset(recorder.keys.tasks, ...bodies);
      await redis.hset(recorder.keys.status, ...fields);
      // A transition through the prelude replaces a record instead of adding one.
      await record(redis, recorder.keys, { id: 't1', status: 'Done', attempt: 2 });
      expected['InProgress'] = (expected['InProgress'] ?? 0) - 1; // t1 was InProgress (1 % 4)
      expected['Done'] = (expected['Done'] ?? 0) + 1;
      // Another queue's records are not counted.
      await record(redis, testRecordKeys('elsewhere'), { id: 'z', status: 'Failed', attempt: 1 });

      const counts = await recorder.countByStatus();
      expect(counts).toEqual(expected);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(2500);
    });
  });
});
