import { Redis } from 'ioredis';
import { Consumer } from '../consumer';
import { SCRIPTS } from '../lua-script';
import { scriptKeys } from '../script-keys';
import { queueKeys } from '../keys';
import { Queue } from '../queue';
import { monitored } from '@taskq/redis-harness';
import { useRedisServer } from '../test-support/redis-server';
import type { FetchedTask } from '../fetched-task';
import type { JsonValue, Task } from '../task';
import { InvalidFlowError } from '../errors/invalid-flow-error';
import { InvalidTaskError } from '../errors/invalid-task-error';
import { chain, chord, dag, group } from './flow-spec';
import { decodeFlowEvent, Flows, FLOW_ENDED, type FlowEvent, type FlowState } from './flows';
import { decodeFlowActions, FLOW_SCRIPTS, moveFlowNotices, performFlowActions, pruneFlowIndex, reconcileUnsettledFlows } from './flow-engine';
import { flowKeys } from './flow-keys';

const real = useRedisServer();

/** A handler's outcome in these tests: a result, an Error (the task ends Dead) or 'hold' (left running). */
type Outcome = JsonValue | undefined | Error; // the string 'hold' leaves the task running

/**
 * Runs the queues' tasks with `handle` until `done` holds: fetch, run, ack
 * (or fail Dead), with the consumers' own flow movers. Returns what ran, in order.
 */
async function drive(queues: readonly string[], handle: (task: Task) => Outcome, done: () => Promise<boolean>, timeoutMs = 10_000) {
  const consumers = queues.map((queue) => new Consumer({ queue, connection: real.redis, id: `c-${queue}` }));
  await Promise.all(consumers.map((c) => c.register()));
  const ran: Task[] = [];
  const held: FetchedTask[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of consumers) {
      const { tasks } = await c.fetch(['w1', 'w2', 'w3']);
      for (const t of tasks) {
        if (!t.task) throw new Error(`invalid task ${t.id}`);
        ran.push(t.task);
        const out = handle(t.task);
        if (out === 'hold') held.push(t);
        else if (out instanceof Error) await c.fail(t.id, t.worker, t.token, { mode: 'dead', reason: out.message });
        else await c.ack(t.id, t.worker, t.token, out === undefined ? undefined : JSON.stringify(out));
      }
      await c.flowNoticesMoved();
    }
    if (await done()) return { ran, held, consumers };
    if (Date.now() > deadline) throw new Error(`flow did not get there within ${timeoutMs} ms; ran ${ran.map((t) => t.id).join(', ')}`);
  }
}

async function ended(flows: Flows, id: string): Promise<FlowState> {
  const state = await flows.get(id);
  if (!state) throw new Error(`flow ${id} not found`);
  return state;
}

const isEnded = (flows: Flows, id: string) => async () => FLOW_ENDED.has((await ended(flows, id)).status);

/** Collects the flow events published while the test runs. */
async function listen(): Promise<{ events: FlowEvent[]; stop: () => void }> {
  const sub = new Redis(real.server.url);
  const events: FlowEvent[] = [];
  await sub.subscribe(flowKeys().events);
  sub.on('message', (_channel: string, message: string) => {
    const e = decodeFlowEvent(message);
    if (e) events.push(e);
  });
  return { events, stop: () => sub.disconnect() };
}

describe('flows (redis-server)', () => {
  let flows: Flows;
  beforeAll(() => {
    flows = new Flows({ queue: 'fl-main', connection: real.redis });
  });

  it('chain: each step starts when the one before is Done and gets its result; events count the progress to FlowDone', async () => {
    const listener = await listen();
    try {
      const added = await flows.add(
        chain({ name: 'a', type: 'inc', payload: 1 }, { name: 'b', type: 'inc', payload: 10 }, { name: 'c', type: 'inc', payload: 100 }),
        { id: 'chain-1' },
      );
      expect(added.steps.map((s) => s.taskId)).toEqual(['chain-1:a', 'chain-1:b', 'chain-1:c']);
      const { ran } = await drive(['fl-main'], (t) => {
        const before = Object.values(t.flow?.inputs ?? {}) as number[];
        return (t.payload as number) + before.reduce((x, y) => x + y, 0);
      }, isEnded(flows, 'chain-1'));
      expect(ran.map((t) => t.id)).toEqual(['chain-1:a', 'chain-1:b', 'chain-1:c']);
      expect(ran[1].flow).toEqual({ id: 'chain-1', step: 'b', inputs: { a: 1 }, errors: {} });
      expect(ran[2].flow?.inputs).toEqual({ b: 11 });
      const state = await ended(flows, 'chain-1');
      expect(state).toMatchObject({ status: 'FlowDone', done: 3, failed: 0, cancelled: 0, total: 3, policy: 'failFast' });
      expect(state.steps.map((s) => [s.name, s.status, s.result])).toEqual([['a', 'Done', 1], ['b', 'Done', 11], ['c', 'Done', 111]]);
      // the results are the queue's too
      expect(await new Queue({ queue: 'fl-main', connection: real.redis }).result('chain-1:c')).toBe(111);
      // FlowRunning, then one event per step's end, then FlowDone; seqs 1..5
      await waitFor(() => listener.events.filter((e) => e.flow === 'chain-1').length === 5);
      const mine = listener.events.filter((e) => e.flow === 'chain-1');
      expect(mine.map((e) => [e.status, e.step ?? null, e.done])).toEqual([
        ['FlowRunning', null, 0],
        ['FlowRunning', 'a', 1],
        ['FlowRunning', 'b', 2],
        ['FlowRunning', 'c', 3],
        ['FlowDone', null, 3],
      ]);
      expect(mine.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(state.seq).toBe(5);
      // the summary is the state without its steps; an unknown flow is left out
      const { steps: _steps, ...summary } = state;
      expect(await flows.summaries(['no-such-flow', 'chain-1'])).toEqual([summary]);
    } finally {
      listener.stop();
    }
  });

  it('chord across two queues: the members run in parallel, the callback once with every result', async () => {
    await flows.add(
      chord(group({ name: 'a', type: 'sq', payload: 2 }, { name: 'b', queue: 'fl-other', type: 'sq', payload: 3 }, { name: 'c', type: 'sq', payload: 4 }), {
        name: 'sum',
        queue: 'fl-other',
        type: 'sum',
      }),
      { id: 'chord-1' },
    );
    // before anything runs, the three members are in their queues, the callback in none
    expect((await new Queue({ queue: 'fl-main', connection: real.redis }).status('chord-1:a'))?.status).toBe('Queued');
    expect(await new Queue({ queue: 'fl-other', connection: real.redis }).status('chord-1:sum')).toBeUndefined();
    const { ran } = await drive(['fl-main', 'fl-other'], (t) => {
      if (t.type === 'sq') return (t.payload as number) ** 2;
      return Object.values(t.flow?.inputs ?? {}).reduce<number>((x, y) => x + (y as number), 0);
    }, isEnded(flows, 'chord-1'));
    const sum = ran.filter((t) => t.type === 'sum');
    expect(sum).toHaveLength(1);
    expect(sum[0].flow?.inputs).toEqual({ a: 4, b: 9, c: 16 });
    const state = await ended(flows, 'chord-1');
    expect(state.status).toBe('FlowDone');
    expect(state.steps.find((s) => s.name === 'sum')?.result).toBe(29);
  });

  it('dag: a diamond; the join runs after both branches, with both results', async () => {
    await flows.add(
      dag(
        { name: 'start', type: 'v', payload: 's' },
        { name: 'left', type: 'v', payload: 'l', dependsOn: ['start'] },
        { name: 'right', type: 'v', payload: 'r', dependsOn: ['start'] },
        { name: 'join', type: 'v', payload: 'j', dependsOn: ['left', 'right'] },
      ),
      { id: 'dag-1' },
    );
    const { ran } = await drive(['fl-main'], (t) => `${t.payload as string}(${Object.values(t.flow?.inputs ?? {}).map(String).join('+')})`, isEnded(flows, 'dag-1'));
    const order = ran.map((t) => t.flow?.step);
    expect(order[0]).toBe('start');
    expect(order[3]).toBe('join');
    expect(ran[3].flow?.inputs).toEqual({ left: 'l(s())', right: 'r(s())' });
    expect((await ended(flows, 'dag-1')).status).toBe('FlowDone');
  });

  it('failFast: a Dead member cancels the queued ones and the callback; the flow ends FlowFailed; nothing runs after', async () => {
    await flows.add(
      chord(group({ name: 'bad', queue: 'ff-a', type: 'boom' }, { name: 'x', queue: 'ff-b', type: 'ok' }, { name: 'y', queue: 'ff-b', type: 'ok' }), {
        name: 'cb',
        queue: 'ff-b',
        type: 'ok',
      }),
      { id: 'ff-1' },
    );
    // only ff-a runs: bad ends Dead while x and y wait in ff-b
    await drive(['ff-a'], () => new Error('boom'), isEnded(flows, 'ff-1'));
    const state = await ended(flows, 'ff-1');
    expect(state.status).toBe('FlowFailed');
    expect(state.reason).toBe('step bad Dead: boom');
    expect(state.steps.map((s) => [s.name, s.status])).toEqual([['bad', 'Dead'], ['x', 'Cancelled'], ['y', 'Cancelled'], ['cb', 'Cancelled']]);
    expect(state).toMatchObject({ done: 0, failed: 1, cancelled: 3 });
    const b = new Queue({ queue: 'ff-b', connection: real.redis });
    expect((await b.status('ff-1:x'))?.status).toBe('Cancelled');
    expect(await b.status('ff-1:cb')).toBeUndefined();
    // ff-b has nothing left to run
    const c = new Consumer({ queue: 'ff-b', connection: real.redis, id: 'ff-b-check' });
    await c.register();
    expect((await c.fetch(['w'])).tasks).toEqual([]);
  });

  it('failFast with a step running: the flow waits for it to stop (FlowFailing), then ends FlowFailed', async () => {
    await flows.add(group({ name: 'bad', queue: 'ff2-a', type: 'boom' }, { name: 'long', queue: 'ff2-b', type: 'long' }), { id: 'ff-2' });
    const b = new Consumer({ queue: 'ff2-b', connection: real.redis, id: 'ff2-b' });
    await b.register();
    const [long] = (await b.fetch(['w'])).tasks;
    expect(long.id).toBe('ff-2:long');
    await drive(['ff2-a'], () => new Error('boom'), async () => (await ended(flows, 'ff-2')).status === 'FlowFailing');
    // the running step was asked to stop; its worker records Cancelled, and the flow ends
    expect(await real.redis.hexists(queueKeys('ff2-b').cancels, 'ff-2:long')).toBe(1);
    expect(await b.fail(long.id, long.worker, long.token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    await b.flowNoticesMoved();
    const state = await ended(flows, 'ff-2');
    expect(state.status).toBe('FlowFailed');
    expect(state.steps.map((s) => s.status)).toEqual(['Dead', 'Cancelled']);
  });

  it('continue: the callback runs with the results of the Done members and the errors of the others; the flow ends FlowFailed', async () => {
    await flows.add(chord(group({ name: 'bad', type: 'boom' }, { name: 'good', type: 'ok', payload: 7 }), { name: 'cb', type: 'cb' }), { id: 'cont-1', policy: 'continue' });
    const { ran } = await drive(['fl-main'], (t) => (t.type === 'boom' ? new Error('kaput') : t.type === 'ok' ? t.payload : 'called'), isEnded(flows, 'cont-1'));
    const cb = ran.find((t) => t.type === 'cb');
    expect(cb?.flow?.inputs).toEqual({ good: 7 });
    expect(cb?.flow?.errors).toEqual({ bad: 'kaput' });
    const state = await ended(flows, 'cont-1');
    expect(state.status).toBe('FlowFailed');
    expect(state.steps.map((s) => [s.name, s.status, s.error ?? null])).toEqual([['bad', 'Dead', 'kaput'], ['good', 'Done', null], ['cb', 'Done', null]]);
  });

  it('cancel: the waiting steps end Cancelled at once, the running one when its worker stops; FlowCancelled', async () => {
    await flows.add(chain({ name: 'a', queue: 'cx', type: 'long' }, { name: 'b', queue: 'cx', type: 'x' }), { id: 'cx-1' });
    const c = new Consumer({ queue: 'cx', connection: real.redis, id: 'cx' });
    await c.register();
    const [a] = (await c.fetch(['w'])).tasks;
    expect(await flows.cancel('cx-1', { reason: 'not needed' })).toBe('FlowCancelling');
    let state = await ended(flows, 'cx-1');
    expect(state.steps.map((s) => s.status)).toEqual(['Released', 'Cancelled']);
    expect(state.reason).toBe('not needed');
    expect(await c.fail(a.id, a.worker, a.token, { mode: 'retry', reason: 'aborted', delayMs: 0 })).toBe('Cancelled');
    await c.flowNoticesMoved();
    state = await ended(flows, 'cx-1');
    expect(state.status).toBe('FlowCancelled');
    expect(await flows.cancel('cx-1')).toBe('FlowCancelled');
    expect(await flows.cancel('no-such-flow')).toBeUndefined();
  });

  it('cancel of a flow whose steps are all queued ends it at once', async () => {
    await flows.add(group({ name: 'a', queue: 'cy', type: 'x' }, { name: 'b', queue: 'cy', type: 'x' }), { id: 'cy-1' });
    expect(await flows.cancel('cy-1')).toBe('FlowCancelled');
    const q = new Queue({ queue: 'cy', connection: real.redis });
    expect([(await q.status('cy-1:a'))?.status, (await q.status('cy-1:b'))?.status]).toEqual(['Cancelled', 'Cancelled']);
  });

  it('adding an id that exists returns it and enqueues nothing twice', async () => {
    const spec = group({ name: 'a', queue: 'idem', type: 'x' }, { name: 'b', queue: 'idem', type: 'x' });
    expect((await flows.add(spec, { id: 'idem-1' })).created).toBe(true);
    const again = await flows.add(spec, { id: 'idem-1' });
    expect(again.created).toBe(false);
    expect(again.steps.map((s) => s.taskId)).toEqual(['idem-1:a', 'idem-1:b']);
    expect(await new Queue({ queue: 'idem', connection: real.redis }).readyCount()).toBe(2);
  });

  it('a notice carried twice changes nothing: the next step is enqueued once and runs once', async () => {
    await flows.add(chain({ name: 'a', queue: 'twice', type: 'x' }, { name: 'b', queue: 'twice', type: 'x' }), { id: 'twice-1' });
    const k = queueKeys('twice');
    const c = new Consumer({ queue: 'twice', connection: real.redis, id: 'twice' });
    await c.register();
    const [a] = (await c.fetch(['w'])).tasks;
    await c.ack(a.id, a.worker, a.token, '"A"');
    await c.flowNoticesMoved();
    // a mover that stopped before removing the notice: it is carried again
    await real.redis.lpush(k.flowOutbox, 'Done twice-1:a twice-1 a');
    expect(await moveFlowNotices(real.redis, k)).toBe(1);
    const fetched = (await c.fetch(['w1', 'w2'])).tasks;
    expect(fetched.map((t) => t.id)).toEqual(['twice-1:b']);
    expect(fetched[0].task?.flow?.inputs).toEqual({ a: 'A' });
    const state = await ended(flows, 'twice-1');
    expect(state.done).toBe(1);
  });

  it('retention does not forget a Done step whose notice is not carried yet; it does once its flow heard of it', async () => {
    await flows.add(chain({ name: 'a', queue: 'keep', type: 'x' }, { name: 'b', queue: 'keep', type: 'x' }), { id: 'keep-1' });
    const k = queueKeys('keep');
    const c = new Consumer({ queue: 'keep', connection: real.redis, id: 'keep' });
    await c.register();
    const [a] = (await c.fetch(['w'])).tasks;
    // the ack stands but its worker is gone before its mover runs: the notice waits in the outbox
    const stranded = real.redis.duplicate();
    const lone = new Consumer({ queue: 'keep', connection: stranded, id: 'keep' });
    await lone.exchange([{ id: a.id, worker: a.worker, token: a.token }], []).then(() => stranded.disconnect());
    expect(await real.redis.llen(k.flowOutbox)).toBe(1);
    const trim = () => SCRIPTS.trim.run(real.redis, scriptKeys('trim', k), [0, 0, 100]);
    expect(await trim()).toBe(0);
    expect(await real.redis.hexists(k.tasks, 'keep-1:a')).toBe(1);
    expect(await moveFlowNotices(real.redis, k)).toBe(1);
    expect(await real.redis.hexists(k.flowMembers, 'keep-1:a')).toBe(0);
    expect(await trim()).toBe(1);
    expect(await real.redis.hexists(k.tasks, 'keep-1:a')).toBe(0);
    // the notice carried again (a mover that stopped before removing it): b was released once, nothing more
    await real.redis.lpush(k.flowOutbox, 'Done keep-1:a keep-1 a');
    expect(await moveFlowNotices(real.redis, k)).toBe(1);
    expect((await c.fetch(['w1', 'w2'])).tasks.map((t) => t.id)).toEqual(['keep-1:b']);
  });

  it('an adder that stopped after writing the flow: the janitor enqueues its first steps', async () => {
    const fk = flowKeys();
    // what add() does before it enqueues: the promise in the unsettled set, the flow written
    const args = [fk.events, 'stopped-1', 'failFast', '60000', JSON.stringify(['a']), 'stopped', 'stopped-1:a', JSON.stringify({ type: 'x', payload: 1 }), '[]', '[]'];
    await real.redis.zadd(fk.unsettled, Date.now() - 1, 'stopped-1');
    await FLOW_SCRIPTS.create.run(real.redis, [fk.flow('stopped-1')], args);
    const q = new Queue({ queue: 'stopped', connection: real.redis });
    expect(await q.status('stopped-1:a')).toBeUndefined();
    expect(await reconcileUnsettledFlows(real.redis, 'taskq')).toBeGreaterThanOrEqual(1);
    expect((await q.status('stopped-1:a'))?.status).toBe('Queued');
    expect(await real.redis.zscore(fk.unsettled, 'stopped-1')).toBeNull();
  });

  it('a step cancelled before its enqueue landed is written Cancelled, and the late enqueue does nothing', async () => {
    const fk = flowKeys();
    // a flow created, its root Released but not enqueued yet (its adder is slow), then cancelled
    const args = [fk.events, 'late-1', 'failFast', '60000', JSON.stringify(['a']), 'late', 'late-1:a', JSON.stringify({ type: 'x' }), '[]', '[]'];
    const created = (await FLOW_SCRIPTS.create.run(real.redis, [fk.flow('late-1')], args)) as unknown[];
    expect(await flows.cancel('late-1')).toBe('FlowCancelled');
    const q = new Queue({ queue: 'late', connection: real.redis });
    expect((await q.status('late-1:a'))?.status).toBe('Cancelled');
    // the adder's enqueue arrives now
    await performFlowActions(real.redis, 'taskq', 'late-1', decodeFlowActions(created, 2));
    expect((await q.status('late-1:a'))?.status).toBe('Cancelled');
    expect(await q.readyCount()).toBe(0);
  });

  it('a flow is kept retentionMs after it ended, then forgotten; the index drops it', async () => {
    const { id } = await flows.add({ name: 'a', queue: 'ret', type: 'x' }, { id: 'ret-1', retentionMs: 60_000 });
    await drive(['ret'], () => 1, isEnded(flows, id));
    const ttl = await real.redis.pttl(flowKeys().flow(id));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await flows.list({ limit: 1000 })).toContain(id);
    // its retention runs out
    await real.redis.pexpire(flowKeys().flow(id), 1);
    while ((await real.redis.exists(flowKeys().flow(id))) === 1) await new Promise((r) => setImmediate(r));
    expect(await flows.get(id)).toBeUndefined();
    expect(await pruneFlowIndex(real.redis, 'taskq', 0)).toBeGreaterThanOrEqual(1);
    expect(await flows.list({ limit: 1000 })).not.toContain(id);
    // the id again, once forgotten: its step's task is still kept in its queue, so the add is refused (its enqueue would do nothing)
    await expect(flows.add({ name: 'a', queue: 'ret', type: 'x' }, { id: 'ret-1' })).rejects.toThrow(
      'flow ret-1: the task ids ret-1:a exist in queue ret already (an earlier flow of this id, forgotten since?): give the flow another id',
    );
    // a running flow's entry stays
    await flows.add({ name: 'a', queue: 'ret', type: 'x' }, { id: 'ret-2' });
    await pruneFlowIndex(real.redis, 'taskq', 0);
    expect(await flows.list({ limit: 1000 })).toContain('ret-2');
  });

  it('a queue without flow steps: an ack batch reads flow-members only within the EXISTS it sends anyway, and never the outbox', async () => {
    const k = queueKeys('plain');
    const q = new Queue({ queue: 'plain', connection: real.redis });
    await q.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, type: 'x' })));
    const c = new Consumer({ queue: 'plain', connection: real.redis, id: 'plain' });
    await c.register();
    const { tasks } = await c.fetch(Array.from({ length: 20 }, (_, i) => `w${i}`));
    const commands = await monitored(real.server.url, async () => {
      const reply = await c.exchange(tasks.map((t) => ({ id: t.id, worker: t.worker, token: t.token })), []);
      expect(reply.acks.filter(Boolean)).toHaveLength(20);
      expect(reply.flowNotices).toBeUndefined();
    });
    const script = commands.filter((cmd) => cmd.lua);
    expect(script.filter((cmd) => cmd.args.includes(k.flowOutbox))).toEqual([]);
    const members = script.filter((cmd) => cmd.args.includes(k.flowMembers));
    expect(members).toHaveLength(1);
    expect(members[0].args[0].toLowerCase()).toBe('exists');
    expect(members[0].args.length).toBeGreaterThan(2); // one EXISTS of several rare hashes, not one of its own
  });

  it('refuses bad flows before writing anything', async () => {
    await expect(flows.add(dag({ name: 'a', type: 'x', dependsOn: ['b'] }, { name: 'b', type: 'x', dependsOn: ['a'] }))).rejects.toThrow(/wait for each other/);
    await expect(flows.add(dag({ name: 'a', type: 'x', dependsOn: ['zz'] }))).rejects.toThrow(InvalidFlowError);
    await expect(flows.add(group({ name: 'a', type: 'x' }, { name: 'a', type: 'x' }))).rejects.toThrow(/two steps are named "a"/);
    await expect(flows.add({ type: 'x', queue: 'bad queue' })).rejects.toThrow(/queue/i);
    await expect(flows.add({ type: 'x', payload: { n: NaN } })).rejects.toThrow(InvalidTaskError);
    await expect(flows.add({ type: 'x' }, { id: 'has{brace}' })).rejects.toThrow(/brace/);
    await expect(flows.add(group())).rejects.toThrow(/at least one step/);
    expect(await flows.list({ limit: 1000 })).not.toContain('has{brace}');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
