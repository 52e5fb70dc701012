import { StatusRecorder, TaskStatus, type StatusRecord } from '@taskq/recorder';
import { Harness } from './test-support/harness';

/** A message of the events channel carrying these records. */
function json(...records: StatusRecord[]): string {
  return JSON.stringify(records);
}

describe('Monitor resync and ordering', () => {
  let h: Harness;

  afterEach(async () => {
    jest.restoreAllMocks();
    await h.close();
  });

  it('ignores a published record older than the known one', async () => {
    h = new Harness();
    await h.monitor.start();
    const seen: string[] = [];
    h.monitor.onStatus('t1', '*', (r) => seen.push(`${r.status}@${r.seq}`));
    const done: StatusRecord = { id: 't1', status: 'Done', attempt: 1, at: 2, seq: 5 };
    const stale: StatusRecord = { id: 't1', status: 'InProgress', attempt: 1, at: 1, seq: 3 };
    const marker = h.next('m');
    await h.redis.publish(h.keys.events, json(done));
    await h.redis.publish(h.keys.events, json(stale));
    await h.redis.publish(h.keys.events, json({ id: 'm', status: 'Queued', attempt: 0, at: 3, seq: 6 }));
    await marker;
    expect(h.monitor.latest('t1')).toEqual(done);
    expect(seen).toEqual(['Done@5']);
    expect(h.logger.messages('info')).not.toContain('[Monitor] Task t1 is InProgress');
  });

  it('applies every record of a batch message in order', async () => {
    h = new Harness();
    await h.monitor.start();
    const seen: string[] = [];
    h.monitor.onStatus('*', '*', (r) => seen.push(`${r.id}:${r.status}@${r.seq}`));
    const marker = h.next('b', TaskStatus.Done);
    await h.redis.publish(
      h.keys.events,
      json(
        { id: 'a', status: 'Done', attempt: 1, at: 1, seq: 1 },
        { id: 'b', status: 'InProgress', attempt: 1, at: 1, seq: 2, worker: 'w' },
        { id: 'b', status: 'Done', attempt: 1, at: 1, seq: 3 },
      ),
    );
    await marker;
    expect(seen).toEqual(['a:Done@1', 'b:InProgress@2', 'b:Done@3']);
  });

  it('does not report an enqueue twice: the body stand-in (seq 0) read first, then its published record', async () => {
    h = new Harness();
    await h.monitor.start();
    const seen: string[] = [];
    h.monitor.onStatus('e1', '*', (r) => seen.push(`${r.status}@${r.seq}`));
    // enqueued, not moved yet: no stored record, only the body
    await h.redis.hset(h.keys.tasks, 'e1', '[1790000000123,"t",null]');
    h.monitor.follow(['e1']);
    await h.monitor.resync();
    expect(seen).toEqual(['Queued@0']);
    const marker = h.next('m');
    await h.redis.publish(h.keys.events, json({ id: 'e1', status: 'Queued', attempt: 0, at: 1790000000123, seq: 7 }));
    // a later, different Queued (another time) is news
    await h.redis.publish(h.keys.events, json({ id: 'e1', status: 'Queued', attempt: 0, at: 1790000000999, seq: 9 }));
    await h.redis.publish(h.keys.events, json({ id: 'm', status: 'Queued', attempt: 0, at: 1, seq: 10 }));
    await marker;
    expect(seen).toEqual(['Queued@0', 'Queued@9']);
    expect(h.monitor.latest('e1')?.seq).toBe(9);
  });

  it('ignores a recorded record older than the one received live', async () => {
    h = new Harness();
    await h.monitor.start();
    h.monitor.follow(['t1']);
    const live = h.next('t1');
    await h.redis.publish(h.keys.events, json({ id: 't1', status: 'InProgress', attempt: 2, at: 2, seq: 9 }));
    await live;
    // The hash still holds an older record (its newer write not yet visible to this read).
    await h.redis.hset(h.keys.status, 't1', JSON.stringify({ id: 't1', status: 'Queued', attempt: 1, at: 1, seq: 4 }));
    await h.monitor.resync();
    expect(h.monitor.latest('t1')).toMatchObject({ status: 'InProgress', seq: 9 });
  });

  it('resync() applies recorded changes of followed tasks whose events were lost', async () => {
    h = new Harness();
    await h.monitor.start();
    const first = h.next('t1');
    await h.record('t1', TaskStatus.Queued);
    await first;
    h.monitor.follow(['t1', 't2']);
    await h.recordSilently('t1', TaskStatus.Done, { attempt: 1, worker: 'w1' });
    await h.recordSilently('t2', TaskStatus.Failed, { attempt: 1, reason: 'lost' });
    await h.recordSilently('t3', TaskStatus.Done); // not followed
    const fired: string[] = [];
    h.monitor.onStatus('*', '*', (r) => fired.push(`${r.id}:${r.status}`));

    await h.monitor.resync();

    expect(fired).toEqual(['t1:Done', 't2:Failed']);
    expect(h.monitor.latest('t1')).toMatchObject({ status: 'Done', worker: 'w1' });
    expect(h.monitor.latest('t3')).toBeUndefined();
    expect(h.logger.messages('info')).toContain('[Monitor] Task t2 is Failed (lost)');
  });

  it('resyncs by itself when a seq jump shows a lost event', async () => {
    h = new Harness({ resyncDebounceMs: 0 });
    await h.monitor.start();
    const first = h.next('t1');
    await h.record('t1', TaskStatus.InProgress, { attempt: 1 }); // seq 1
    await first;
    h.monitor.follow(['t1']);
    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    const done = h.next('t1', TaskStatus.Done);

    await h.recordSilently('t1', TaskStatus.Done, { attempt: 1 }); // seq 2, publish lost
    await h.record('other', TaskStatus.Queued); // seq 3: a gap after 1

    expect((await done).seq).toBe(2);
    expect(getMany).toHaveBeenCalledWith(['t1']);
  });

  it('does not resync while seqs are contiguous', async () => {
    h = new Harness({ resyncDebounceMs: 0 });
    await h.monitor.start();
    h.monitor.follow(['t1']);
    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    const last = h.next('t1', TaskStatus.Done);
    await h.record('t1', TaskStatus.Queued);
    await h.record('t2', TaskStatus.Queued);
    await h.record('t1', TaskStatus.Done);
    await last;
    await new Promise((resolve) => setTimeout(resolve, 0)); // let a 0 ms resync timer fire, if armed
    expect(getMany).not.toHaveBeenCalled();
  });

  it('turns a burst of gaps into one re-read', async () => {
    h = new Harness({ resyncDebounceMs: 300 });
    await h.monitor.start();
    const first = h.next('t1');
    await h.record('t1', TaskStatus.Queued);
    await first;
    h.monitor.follow(['t1']);
    await h.recordSilently('t1', TaskStatus.Done);
    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    const done = h.next('t1', TaskStatus.Done);
    for (const id of ['g1', 'g2', 'g3']) {
      await h.recordSilently('lost', TaskStatus.Queued);
      await h.record(id, TaskStatus.Queued); // each one jumps a seq
    }
    await done;
    expect(h.monitor.latest('g3')?.status).toBe('Queued'); // the whole burst arrived first
    expect(getMany).toHaveBeenCalledTimes(1);
  });

  it('resyncs after the subscriber reconnects', async () => {
    h = new Harness({ resyncDebounceMs: 0 });
    await h.monitor.start();
    h.monitor.follow(['t1']);
    await h.recordSilently('t1', TaskStatus.Done); // published while disconnected
    const done = h.next('t1', TaskStatus.Done);
    // ioredis emits 'ready' again once it has reconnected (and re-subscribed).
    h.subscribers[0].emit('ready');
    expect((await done).status).toBe('Done');
  });

  it('re-reads only followed tasks that are not final, in chunks', async () => {
    h = new Harness({ readChunkSize: 2 });
    await h.monitor.start();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) await h.recordSilently(id, TaskStatus.InProgress);
    await h.recordSilently('f', TaskStatus.Done);
    h.monitor.follow([...ids, 'f']);
    await h.monitor.resync();
    const finished = h.next('c', TaskStatus.Done);
    await h.record('c', TaskStatus.Done);
    await finished;

    const getMany = jest.spyOn(StatusRecorder.prototype, 'getMany');
    await h.monitor.resync();
    expect(getMany.mock.calls).toEqual([[['a', 'b']], [['d', 'e']]]);
  });
});
