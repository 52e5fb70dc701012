import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { silentLogger } from '@taskq/recorder';
import type { RedisClient } from '@taskq/queue';
import type { EventHub, HubListener } from './hub';
import { EventStream, type EventStreamSettings } from './stream';

/** A ServerResponse as far as the stream uses one: what it wrote, and how much the socket holds. */
class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  head: { status: number; headers: Record<string, string> } | undefined;
  ended = false;
  destroyed = false;
  writableLength = 0;
  socket: { destroyed: boolean } | null = { destroyed: false };
  writeHead(status: number, headers: Record<string, string>): this {
    this.head = { status, headers };
    return this;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** A hub that hands the test the listener, and a Redis whose queue `q` has seq 5 and epoch E1 (nothing stored). */
function fakes() {
  const hub = {
    listener: undefined as HubListener | undefined,
    unfollowed: 0,
    flowListener: undefined as HubListener | undefined,
    flowsUnfollowed: 0,
    follow(listener: HubListener) {
      hub.listener = listener;
      return Promise.resolve(async () => {
        hub.unfollowed++;
      });
    },
    followFlows(listener: HubListener) {
      hub.flowListener = listener;
      return Promise.resolve(async () => {
        hub.flowsUnfollowed++;
      });
    },
    barrier: () => Promise.resolve(),
  };
  const redis = {
    // the snapshot: seq, epoch, TIME, pause key; the scans: cursor 0, nothing found
    eval: (script: string) => Promise.resolve(script.includes("redis.call('TIME')") ? ['5', 'E1', '1796351881', '812000', ''] : ['0']),
    get: () => Promise.resolve('E1'),
  };
  return { hub, redis };
}

async function started(settings: EventStreamSettings = {}, res = new FakeResponse(), flows = false) {
  const { hub, redis } = fakes();
  const stream = new EventStream({ hub: hub as unknown as EventHub, redis: redis as unknown as RedisClient, prefix: 'taskq', logger: silentLogger, settings }, { queues: ['q'], from: undefined, flows });
  await stream.subscribe();
  const closed = jest.fn();
  stream.onClosed(closed);
  const running = stream.start(res as unknown as ServerResponse);
  return { hub, res, stream, running, closed, listener: () => hub.listener as HubListener };
}

describe('EventStream', () => {
  afterEach(() => jest.useRealTimers());

  it('writes the head, the retry hint, the ready event with the position, then live events: status with ids, queue events, progress without one', async () => {
    const { res, running, listener } = await started();
    // held while the stream starts: passed on after ready, in order
    listener().message('q', '[{"id":"t1","status":"Queued","attempt":0,"at":1796351881900,"seq":6}]');
    await running;
    listener().message('q', '[{"id":"t1","status":"InProgress","attempt":1,"at":1796351881950,"seq":7,"worker":"w1"},{"id":"t1","status":"Done","attempt":1,"at":1796351881990,"seq":8,"worker":"w1"}]');
    listener().message('q', '{"event":"progress","at":1796351881960,"tasks":[{"id":"t1","pct":50,"at":1796351881960}]}');
    listener().message('q', '{"event":"paused","at":1796351882000,"seq":9,"reason":"deploy"}');
    listener().message('q', 'not an event');
    expect(res.head).toEqual({ status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } });
    expect(res.text).toBe(
      [
        'retry: 1000\n\n',
        'id: q=5.1796351881812.E1\nevent: ready\ndata: {"queues":["q"],"replayed":0}\n\n',
        'id: q=6.1796351881900.E1\nevent: status\ndata: {"queue":"q","id":"t1","status":"Queued","attempt":0,"at":1796351881900,"seq":6}\n\n',
        'id: q=7.1796351881950.E1\nevent: status\ndata: {"queue":"q","id":"t1","status":"InProgress","attempt":1,"at":1796351881950,"seq":7,"worker":"w1"}\n\n',
        'id: q=8.1796351881990.E1\nevent: status\ndata: {"queue":"q","id":"t1","status":"Done","attempt":1,"at":1796351881990,"seq":8,"worker":"w1"}\n\n',
        'event: progress\ndata: {"queue":"q","event":"progress","at":1796351881960,"tasks":[{"id":"t1","pct":50,"at":1796351881960}]}\n\n',
        'id: q=9.1796351882000.E1.p\nevent: queue\ndata: {"queue":"q","event":"paused","at":1796351882000,"seq":9,"reason":"deploy"}\n\n',
      ].join(''),
    );
  });

  it('flows: true: flow events as `flow` events without an id, in order with the queue messages (held ones after ready); unfollowed on close', async () => {
    const { hub, res, running, listener, stream } = await started({}, new FakeResponse(), true);
    const flowEvent = (seq: number, status: string, extra = '') => `{"flow":"f1","status":"${status}","done":${seq - 1},"failed":0,"cancelled":0,"total":2,"seq":${seq},"at":1796351881900${extra}}`;
    hub.flowListener?.flow(flowEvent(1, 'FlowRunning'));
    await running;
    listener().message('q', '[{"id":"f1:a","status":"Done","attempt":1,"at":1796351881950,"seq":6,"worker":"w1"}]');
    hub.flowListener?.flow(flowEvent(2, 'FlowRunning', ',"step":"a","stepStatus":"Done","taskId":"f1:a"'));
    hub.flowListener?.flow('not a flow event');
    expect(res.text).toBe(
      [
        'retry: 1000\n\n',
        'id: q=5.1796351881812.E1\nevent: ready\ndata: {"queues":["q"],"replayed":0}\n\n',
        `event: flow\ndata: ${flowEvent(1, 'FlowRunning')}\n\n`,
        'id: q=6.1796351881950.E1\nevent: status\ndata: {"queue":"q","id":"f1:a","status":"Done","attempt":1,"at":1796351881950,"seq":6,"worker":"w1"}\n\n',
        `event: flow\ndata: ${flowEvent(2, 'FlowRunning', ',"step":"a","stepStatus":"Done","taskId":"f1:a"')}\n\n`,
      ].join(''),
    );
    stream.close('done');
    await Promise.resolve();
    expect([hub.unfollowed, hub.flowsUnfollowed]).toEqual([1, 1]);
  });

  it('without flows: true no flow subscription is asked for', async () => {
    const { hub, running } = await started();
    await running;
    expect(hub.flowListener).toBeUndefined();
  });

  it('a keepalive comment every keepaliveMs (15 s by default)', async () => {
    jest.useFakeTimers();
    const { res, running } = await started();
    await running;
    const keepalives = () => res.chunks.filter((c) => c === ': keepalive\n\n').length;
    jest.advanceTimersByTime(14_999);
    expect(keepalives()).toBe(0);
    jest.advanceTimersByTime(1);
    expect(keepalives()).toBe(1);
    jest.advanceTimersByTime(30_000);
    expect(keepalives()).toBe(3);
  });

  it('closes (abruptly) a client that holds more than maxBufferedBytes, and lets go of its subscription', async () => {
    const { hub, res, running, listener, closed, stream } = await started({ maxBufferedBytes: 10_000 });
    await running;
    listener().message('q', '[{"id":"t1","status":"Queued","attempt":0,"at":1796351881900,"seq":6}]');
    expect(res.destroyed).toBe(false);
    res.writableLength = 9_990; // the socket is not taking what is written
    listener().message('q', '[{"id":"t2","status":"Queued","attempt":0,"at":1796351881900,"seq":7}]');
    expect(res.destroyed).toBe(true);
    expect(closed).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(hub.unfollowed).toBe(1);
    // closed: nothing more is written, a second close does nothing
    const written = res.chunks.length;
    listener().message('q', '[{"id":"t3","status":"Queued","attempt":0,"at":1796351881900,"seq":8}]');
    stream.close('again');
    expect(res.chunks).toHaveLength(written);
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('messages held while starting count against the limit too', async () => {
    const { res, running, listener } = await started({ maxBufferedBytes: 200 });
    listener().message('q', `[${'{"id":"t1","status":"Queued","attempt":0,"at":1796351881900,"seq":6},'.repeat(5)}{"id":"t1","status":"Queued","attempt":0,"at":1796351881900,"seq":6}]`);
    await running;
    expect(res.destroyed).toBe(true);
    expect(res.text).not.toContain('event: ready');
  });

  it('a client gone before the stream started (its close came first): nothing written, the subscription let go', async () => {
    const gone = new FakeResponse();
    gone.socket = null;
    const { hub, res, running, closed } = await started({}, gone);
    await running;
    expect(res.chunks).toEqual([]);
    expect(res.head).toBeUndefined();
    expect(closed).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(hub.unfollowed).toBe(1);
  });

  it('ends when the hub says the subscriber connection was lost (the client resumes)', async () => {
    const { res, running, listener, closed } = await started();
    await running;
    listener().lost('the Redis subscriber connection was lost');
    expect(res.ended).toBe(true);
    expect(res.destroyed).toBe(false);
    expect(closed).toHaveBeenCalledTimes(1);
  });
});
