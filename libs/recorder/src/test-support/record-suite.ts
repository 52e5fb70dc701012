import type { Redis } from 'ioredis';
import { testRecordKeys } from './record-keys';
import { decodeStatusMessage, decodeStatusRecord } from '../status-record';
import { RECORD_LUA } from '../record-lua';
import { NASTY_REASON, nextMessage, record } from './record-script';

/** Two connections to one (mock or real) Redis, and a queue no other test uses. */
export interface RecordBackend {
  readonly redis: Redis;
  /** A second connection, for SUBSCRIBE. */
  readonly subscriber: Redis;
  readonly keys: ReturnType<typeof testRecordKeys>;
}

/**
 * The behaviour of the record prelude, asserted the same way on ioredis-mock
 * (fengari, Lua 5.3) and on a real redis-server (Lua 5.1): queue scripts run
 * on both, so both must write the same records.
 */
export function describeRecordPrelude(
  label: string,
  backend: () => Promise<RecordBackend>,
  /** How far the server's TIME may be from Date.now(), in ms. */
  clockToleranceMs: number,
): void {
  describe(`RECORD_LUA on ${label}`, () => {
    let b: RecordBackend;
    beforeEach(async () => {
      b = await backend();
    });

    it('writes a record that decodeStatusRecord parses, stores it under the task id and returns it', async () => {
      const before = Date.now();
      const raw = await record(b.redis, b.keys, { id: 'task-1', status: 'InProgress', attempt: 3, worker: 'w-1' });
      const after = Date.now();
      const rec = decodeStatusRecord(raw);
      expect(rec).toMatchObject({ id: 'task-1', status: 'InProgress', attempt: 3, seq: 1, worker: 'w-1' });
      expect(rec).not.toHaveProperty('reason');
      expect(Number.isInteger(rec.at)).toBe(true);
      expect(rec.at).toBeGreaterThanOrEqual(before - clockToleranceMs);
      expect(rec.at).toBeLessThanOrEqual(after + clockToleranceMs);
      expect(await b.redis.hget(b.keys.status, 'task-1')).toBe(raw);
      expect(await b.redis.get(b.keys.seq)).toBe('1');
    });

    it('round-trips quotes, backslashes, newlines, control characters and UTF-8 in reason, worker and id', async () => {
      const id = 'id "with" \\ and\nnewline é';
      const worker = 'host\\1\t"w"';
      const raw = await record(b.redis, b.keys, { id, status: 'Failed', attempt: 1, worker, reason: NASTY_REASON });
      // Strict JSON: no raw control character may appear inside the record.
      // eslint-disable-next-line no-control-regex -- the control characters are what the test looks for
      expect(raw).not.toMatch(/[\u0000-\u001f]/);
      const rec = decodeStatusRecord(raw);
      expect(rec.reason).toBe(NASTY_REASON);
      expect(rec.worker).toBe(worker);
      expect(rec.id).toBe(id);
      expect(rec.status).toBe('Failed');
      expect(decodeStatusRecord((await b.redis.hget(b.keys.status, id)) ?? '')).toEqual(rec);
    });

    it('taskq_emit_plain writes, stores and publishes byte for byte what taskq_emit does for a plain id and worker', async () => {
      // both draw seq 1 (each from its own counter) at the same time and flush together (the
      // seqs past 9, 99, 100 are checked on a real redis-server by tools/integration's records test);
      // ARGV[6] '1': published only (no status key), as enqueue announces a task
      const script = `${RECORD_LUA}
local now = taskq_now()
local key = KEYS[1]
if ARGV[6] == '1' then key = nil end
local a = taskq_emit(key, KEYS[2], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), now, ARGV[5], '')
local b, seq, token = taskq_emit_plain(key, KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], now, ARGV[5], true)
taskq_flush()
return { a, b, seq, token }`;
      const cases: [string, string, number, string, boolean][] = [
        ['task-1', 'InProgress', 1, 'worker-123-1', false],
        ['42', 'Done', 0, 'w', false],
        ['tsk_01JD:é/中文', 'InProgress', 12345, 'host.example-99-50', false],
        ['no-worker', 'Queued', 2, '', false],
        ['17', 'Queued', 0, '', true],
      ];
      for (const [id, status, attempt, worker, announceOnly] of cases) {
        const published = nextMessage(b.subscriber, b.keys.events);
        await b.subscriber.subscribe(b.keys.events);
        const seqA = `${b.keys.seq}:a:${id}`;
        const seqB = `${b.keys.seq}:b:${id}`;
        const args = [b.keys.events, id, status, String(attempt), worker, announceOnly ? '1' : '0'];
        const [fromEmit, fromPlain, seq, token] = (await b.redis.eval(script, 3, b.keys.status, seqA, seqB, ...args)) as [string, string, number, string];
        expect(fromPlain).toBe(fromEmit);
        // the attempt goes in as its text; the token is '<seq>:<attempt>'
        expect([seq, token]).toEqual([1, `1:${attempt}`]);
        const rec = decodeStatusRecord(fromPlain);
        expect(rec).toMatchObject({ id, status, attempt, seq: 1 });
        if (worker === '') expect(rec).not.toHaveProperty('worker');
        else expect(rec.worker).toBe(worker);
        expect(await b.redis.hget(b.keys.status, id)).toBe(announceOnly ? null : fromPlain);
        expect(await published).toBe(`[${fromEmit},${fromPlain}]`);
        await b.subscriber.unsubscribe(b.keys.events);
      }
    });

    it('leaves out an empty worker and an empty reason', async () => {
      const rec = decodeStatusRecord(await record(b.redis, b.keys, { id: 't', status: 'Queued', attempt: 0 }));
      expect(rec).toEqual({ id: 't', status: 'Queued', attempt: 0, at: rec.at, seq: 1 });
    });

    it('numbers the transitions of one queue 1, 2, 3, ... and keeps the latest record per task', async () => {
      const seqs: number[] = [];
      seqs.push(decodeStatusRecord(await record(b.redis, b.keys, { id: 'a', status: 'Queued', attempt: 0 })).seq);
      seqs.push(decodeStatusRecord(await record(b.redis, b.keys, { id: 'b', status: 'Queued', attempt: 0 })).seq);
      seqs.push(decodeStatusRecord(await record(b.redis, b.keys, { id: 'a', status: 'InProgress', attempt: 1 })).seq);
      seqs.push(decodeStatusRecord(await record(b.redis, b.keys, { id: 'a', status: 'Done', attempt: 1 })).seq);
      expect(seqs).toEqual([1, 2, 3, 4]);
      const latest = decodeStatusRecord((await b.redis.hget(b.keys.status, 'a')) ?? '');
      expect(latest).toMatchObject({ status: 'Done', seq: 4 });
      expect(await b.redis.hlen(b.keys.status)).toBe(2);

      // another queue has its own counter
      const other = testRecordKeys(`${b.keys.queue}-other`);
      expect(decodeStatusRecord(await record(b.redis, other, { id: 'a', status: 'Queued', attempt: 0 })).seq).toBe(1);
    });

    it('publishes 1,001 plain records of one script as two JSON arrays (1,000 flushed mid-script, then one), seqs 1..1001 in order, each stored as published', async () => {
      const script = `${RECORD_LUA}
local now = taskq_now()
taskq_reserve(KEYS[2], 1001)
for i = 1, 1001 do taskq_emit_plain(KEYS[1], KEYS[2], ARGV[1], 't' .. i, 'Done', '1', now, 'w') end
taskq_flush()
return 1`;
      const messages: string[] = [];
      const onMessage = (channel: string, message: string) => {
        if (channel === b.keys.events) messages.push(message);
      };
      b.subscriber.on('message', onMessage);
      await b.subscriber.subscribe(b.keys.events);
      try {
        await b.redis.eval(script, 2, b.keys.status, b.keys.seq, b.keys.events);
        const deadline = Date.now() + 5000;
        while (messages.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(messages).toHaveLength(2);
        const batches = messages.map((m) => decodeStatusMessage(m));
        expect(batches.map((records) => records.length)).toEqual([1000, 1]);
        const records = batches.flat();
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
        expect(records.map((r) => r.id)).toEqual(Array.from({ length: 1001 }, (_, i) => `t${i + 1}`));
        const stored = await b.redis.hmget(b.keys.status, 't1', 't1000', 't1001');
        const raw = [...messages[0].slice(1, -1).split(/,(?=\{"id")/), messages[1].slice(1, -1)];
        expect(stored).toEqual([raw[0], raw[999], raw[1000]]);
      } finally {
        b.subscriber.off('message', onMessage);
        await b.subscriber.unsubscribe(b.keys.events);
      }
    });

    it('publishes the record on the queue events channel, as a one-element JSON array', async () => {
      await b.subscriber.subscribe(b.keys.events);
      const published = nextMessage(b.subscriber, b.keys.events);
      const raw = await record(b.redis, b.keys, { id: 'p', status: 'Failed', attempt: 2, reason: NASTY_REASON });
      const message = await published;
      expect(message).toBe(`[${raw}]`);
      const records = decodeStatusMessage(message);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ id: 'p', status: 'Failed', reason: NASTY_REASON });
    });
  });
}
