import type { ServerResponse } from 'node:http';
import { decodeFlowEvent, decodeProgressEvent, decodeQueueEvent, discoverQueues, queueKeys, scanChanged, scanUnmoved, type QueueKeys, type RedisClient } from '@taskq/queue';
import { decodeStatusMessage, decodeStatusRecord, type Logger, type StatusRecord } from '@taskq/recorder';
import { encodeEventId, encodePair, NO_QUEUE_ID, type QueuePosition } from './event-id';
import type { EventHub, Follow, HubListener } from './hub';
import { readEpoch, readSnapshot } from './replay';

/** How event streams behave (ApiOptions.events). */
export interface EventStreamSettings {
  /** A `: keepalive` comment this often, ms. Default 15000. */
  readonly keepaliveMs?: number;
  /** The `retry:` hint sent first: how long a client waits before it reconnects, ms. Default 1000. */
  readonly retryMs?: number;
  /**
   * Most bytes a stream may hold for a client that does not read them
   * (messages waiting to be written plus what the socket has not taken): a
   * stream past it is closed, and its client resumes with Last-Event-ID.
   * Default 8 MiB.
   */
  readonly maxBufferedBytes?: number;
}

export const DEFAULT_KEEPALIVE_MS = 15_000;
export const DEFAULT_RETRY_MS = 1000;
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface EventStreamOptions {
  readonly hub: EventHub;
  /** For the snapshots and scans (commands, not pub/sub). */
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger: Logger;
  readonly settings?: EventStreamSettings;
}

/** What the client asked for: the queues (or every queue), and where it was (Last-Event-ID), if it resumes. */
export interface StreamRequest {
  readonly queues: Follow;
  readonly from: ReadonlyMap<string, QueuePosition> | undefined;
  /** Flow events too (`event: flow`, no id: at most once, like progress). */
  readonly flows?: boolean;
}

/** A message from the hub, waiting to be passed on: of a queue's events channel, or (queue undefined) of the flow events channel. */
interface Pending {
  readonly queue: string | undefined;
  readonly text: string;
}

/** What the replay sent of a task: live records of it up to then are stale. */
type Sent = { readonly kind: 'stored'; readonly seq: number } | { readonly kind: 'unmoved'; readonly enqueuedAt: number };

/**
 * One client's `GET /events`: Server-Sent Events of the status records and
 * queue events of the queues it follows, each with an id that says where the
 * stream is in every one of them (see event-id.ts), so that a client that
 * reconnects with it as `Last-Event-ID` misses nothing.
 *
 * Start: subscribe first (the hub; messages are held from then on), then
 * read each queue's snapshot (seq counter, epoch, time) and, when resuming,
 * replay its recorded state since the client's position; then the messages
 * held meanwhile, less those the replay made stale; then live. See the
 * README's "GET /events" for the rule.
 */
export class EventStream implements HubListener {
  private readonly keepaliveMs: number;
  private readonly retryMs: number;
  private readonly maxBuffered: number;
  /** Where the stream is in each queue it follows (what ids encode): set with place(). */
  private readonly position = new Map<string, QueuePosition>();
  /** Each queue's part of the id, the queues in name order, and the id (made again only after a change). */
  private readonly parts = new Map<string, string>();
  private ordered: string[] = [];
  private idText: string | undefined;
  /** Messages from the hub not passed on yet (all of them until the stream is live), from `head` on. */
  private pending: Pending[] = [];
  private head = 0;
  private pendingBytes = 0;
  private live = false;
  private pumping = false;
  private closed = false;
  private res: ServerResponse | undefined;
  private unfollow: (() => Promise<void>) | undefined;
  private unfollowFlows: (() => Promise<void>) | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  /** Per queue, task id -> what the replay sent of it (until the held messages are through). */
  private sent = new Map<string, Map<string, Sent>>();
  /** Per queue, the client's seq in Last-Event-ID: records up to it are not passed on again. */
  private floor = new Map<string, number>();
  /** Queues whose epoch was read after the start (each once: a queue without one keeps '' until a new stream). */
  private readonly epochAsked = new Set<string>();
  private readonly closedHandlers: (() => void)[] = [];

  constructor(
    private readonly o: EventStreamOptions,
    private readonly request: StreamRequest,
  ) {
    this.keepaliveMs = o.settings?.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.retryMs = o.settings?.retryMs ?? DEFAULT_RETRY_MS;
    this.maxBuffered = o.settings?.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /** Subscribes (through the hub). Rejects when Redis refuses; nothing has been written then. */
  async subscribe(): Promise<void> {
    this.unfollow = await this.o.hub.follow(this, this.request.queues);
    if (this.request.flows) {
      try {
        this.unfollowFlows = await this.o.hub.followFlows(this);
      } catch (err) {
        await this.unfollow();
        throw err;
      }
    }
  }

  /** Called once when the stream has ended (client gone, closed by the server, an error). */
  onClosed(handler: () => void): void {
    this.closedHandlers.push(handler);
  }

  /**
   * Writes the response head and the `retry:` hint, then the snapshot or
   * replay, then live events until the client goes or the stream is closed.
   */
  async start(res: ServerResponse): Promise<void> {
    this.res = res;
    res.on('close', () => this.close('the client went away'));
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      // gone while the stream subscribed: its 'close' came before anyone listened
      this.close('the client went away');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${this.retryMs}\n\n`);
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), this.keepaliveMs);
    this.keepalive.unref();
    try {
      const replayed = await this.begin();
      if (this.closed) return;
      // every message published before the scans above ended is held now: past
      // them, nothing live can be older than what the replay sent
      await this.o.hub.barrier();
      if (this.closed) return;
      const queues = [...this.position.keys()].sort();
      this.write(this.frame('ready', JSON.stringify({ queues, replayed }), this.id()));
      this.live = true;
      this.pump();
    } catch (err) {
      if (this.closed) return;
      this.o.logger.error({ err }, `an event stream failed to start: ${String(err)}`);
      this.write(this.frame('error', JSON.stringify({ message: 'the stream could not start (logged by the server); reconnect to resume' })));
      this.close('it could not start');
    }
  }

  /** From the hub: held until the stream is live, then passed on in order. */
  message(queue: string, text: string): void {
    this.hold(queue, text);
  }

  /** From the hub: a flow event, held and passed on in order as the queues' messages are. */
  flow(text: string): void {
    this.hold(undefined, text);
  }

  private hold(queue: string | undefined, text: string): void {
    if (this.closed) return;
    this.pending.push({ queue, text });
    this.pendingBytes += text.length;
    if (this.overLimit()) return;
    if (this.live && !this.pumping) this.pump();
  }

  /** From the hub: the subscriber connection was lost (or the server stops). */
  lost(reason: string): void {
    this.close(reason);
  }

  /** Ends the stream (idempotent): the response ends, the hub lets go of it. */
  close(reason: string, abrupt = false): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    this.pending = [];
    this.pendingBytes = 0;
    this.o.logger.debug({ reason }, `event stream closed: ${reason}`);
    const res = this.res;
    if (res && !res.destroyed) {
      if (abrupt) res.destroy();
      else res.end();
    }
    void this.unfollow?.().catch((err: unknown) => this.o.logger.debug({ err }, 'letting go of an event subscription failed'));
    void this.unfollowFlows?.().catch((err: unknown) => this.o.logger.debug({ err }, 'letting go of the flow events subscription failed'));
    for (const handler of this.closedHandlers.splice(0)) handler();
  }

  /** The snapshot of each queue, and the replay when resuming; returns how many events the replay sent. */
  private async begin(): Promise<number> {
    const { redis, prefix } = this.o;
    const from = this.request.from;
    const asked = this.request.queues;
    let queues: string[];
    if (asked === 'all') {
      // found after subscribing: a queue that appears later is seen live
      const found = new Set(await discoverQueues(redis, prefix));
      for (const q of from?.keys() ?? []) found.add(q);
      queues = [...found].sort();
    } else {
      queues = [...new Set(asked)];
    }
    const startId = from ? encodeEventId(from) : undefined;
    let replayed = 0;
    for (const queue of queues) {
      if (this.closed) return replayed;
      const keys = queueKeys(queue, prefix);
      const snap = await readSnapshot(redis, keys);
      if (from !== undefined) {
        let was: QueuePosition = from.get(queue) ?? { seq: 0, at: 0, epoch: snap.epoch, paused: false };
        const lostData = (was.epoch !== '' && was.epoch !== snap.epoch) || snap.seq < was.seq;
        if (from.has(queue) && lostData) {
          const reason =
            was.epoch !== snap.epoch
              ? snap.epoch === ''
                ? `queue ${queue} has no data now (its epoch ${was.epoch} is gone): Redis lost it, or it was purged`
                : `queue ${queue}'s data is another generation now (epoch ${was.epoch} before, ${snap.epoch} now): Redis lost its data`
              : `queue ${queue}'s seq counter went back (${was.seq} before, ${snap.seq} now): Redis lost part of its data`;
          this.write(this.frame('reset', JSON.stringify({ queue, reason }), startId));
          was = { seq: 0, at: 0, epoch: snap.epoch, paused: false };
        }
        replayed += await this.replay(queue, keys, was, snap, startId ?? '');
        this.floor.set(queue, was.seq);
      }
      this.place(queue, { seq: snap.seq, at: snap.at, epoch: snap.epoch, paused: snap.paused !== undefined });
    }
    return replayed;
  }

  /**
   * Sends the latest recorded state of every task of `queue` that changed
   * after `was`: each stored record with a seq above it, oldest first, and a
   * Queued record (seq 0, `replayed`) for each task without a stored one that
   * was enqueued at or after its time; and the queue's pause event if it was
   * paused since, or a `resumed` one if it was paused as of the position and
   * is not now. Each with the id the client resumed from.
   */
  private async replay(queue: string, keys: QueueKeys, was: QueuePosition, snap: Awaited<ReturnType<typeof readSnapshot>>, id: string): Promise<number> {
    const { redis } = this.o;
    let n = 0;
    if (snap.paused && snap.paused.seq > was.seq) {
      await this.writeReplay(this.frame('queue', JSON.stringify({ queue, ...snap.paused, replayed: true }), id));
      n++;
    } else if (!snap.paused && was.paused) {
      // paused as of the client's position, not now: its resume event is not stored (seq 0, the time of this replay)
      await this.writeReplay(this.frame('queue', JSON.stringify({ queue, event: 'resumed', at: snap.at, seq: 0, replayed: true }), id));
      n++;
    }
    const sent = new Map<string, Sent>();
    this.sent.set(queue, sent);
    const stored = new Map<string, StatusRecord>();
    await scanChanged(redis, keys, was.seq, (raw) => {
      let rec: StatusRecord;
      try {
        rec = decodeStatusRecord(raw);
      } catch {
        return;
      }
      const seen = stored.get(rec.id);
      if (!seen || seen.seq < rec.seq) stored.set(rec.id, rec);
    });
    const unmoved: { id: string; at: number }[] = [];
    await scanUnmoved(redis, keys, was.at, (taskId, enqueuedAt) => {
      // a record stored meanwhile is newer: the stored scan's, or a live one
      if (!stored.has(taskId)) unmoved.push({ id: taskId, at: enqueuedAt });
    });
    unmoved.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const seenUnmoved = new Set<string>();
    for (const t of unmoved) {
      if (this.closed) return n;
      if (seenUnmoved.has(t.id)) continue; // HSCAN may give a field twice
      seenUnmoved.add(t.id);
      sent.set(t.id, { kind: 'unmoved', enqueuedAt: t.at });
      await this.writeReplay(this.frame('status', JSON.stringify({ queue, id: t.id, status: 'Queued', attempt: 0, at: t.at, seq: 0, replayed: true }), id));
      n++;
    }
    const records = [...stored.values()].sort((a, b) => a.seq - b.seq);
    for (const rec of records) {
      if (this.closed) return n;
      sent.set(rec.id, { kind: 'stored', seq: rec.seq });
      await this.writeReplay(this.frame('status', JSON.stringify({ queue, ...rec, replayed: true }), id));
      n++;
    }
    return n;
  }

  /** Passes held messages on, in order; waits (holding the rest) while a queue's epoch is read. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    while (this.head < this.pending.length) {
      const m = this.pending[this.head];
      if (m.queue === undefined) {
        // a flow event: no position in any queue (a client that missed some re-reads GET /flows/{id})
        this.head++;
        this.pendingBytes -= m.text.length;
        this.passFlow(m.text);
        if (this.closed) return;
        continue;
      }
      const queue = m.queue;
      const p = this.position.get(queue);
      if (!p || (p.epoch === '' && !this.epochAsked.has(queue))) {
        // A queue this stream sees for the first time (created after the
        // start): followed from its beginning. Or one that had no epoch yet
        // (its first enqueue writes it): its ids carry the epoch from now on.
        this.epochAsked.add(queue);
        void readEpoch(this.o.redis, queueKeys(queue, this.o.prefix))
          .then(
            (epoch) => {
              const known = this.position.get(queue);
              this.place(queue, known ? { ...known, epoch } : { seq: 0, at: 0, epoch, paused: false });
            },
            (err: unknown) => {
              this.o.logger.warn({ err, queue }, `reading queue ${queue}'s epoch failed: ${String(err)}`);
              this.close(`reading queue ${queue}'s epoch failed`);
            },
          )
          .finally(() => {
            this.pumping = false;
            this.pump();
          });
        return;
      }
      this.head++;
      this.pendingBytes -= m.text.length;
      this.pass(queue, m.text);
      if (this.closed) return;
    }
    this.pending = [];
    this.head = 0;
    this.pumping = false;
    // what was held at the barrier is through: nothing later can be older than the replay's records
    if (this.sent.size > 0) this.sent = new Map();
  }

  /** One message of a queue's events channel, as events. */
  private pass(queue: string, text: string): void {
    if (text.startsWith('[')) {
      let records: StatusRecord[];
      try {
        records = decodeStatusMessage(text);
      } catch {
        this.o.logger.debug({ queue }, 'an events message that is not status records: skipped');
        return;
      }
      let out = '';
      for (const rec of records) {
        if (this.stale(queue, rec)) continue;
        this.advance(queue, rec.seq, rec.at);
        out += this.frame('status', JSON.stringify({ queue, ...rec }), this.id());
      }
      if (out !== '') this.write(out);
      return;
    }
    const event = decodeQueueEvent(text);
    if (event) {
      if (event.seq <= (this.floor.get(queue) ?? -1)) return;
      this.advance(queue, event.seq, event.at, event.event === 'paused');
      this.write(this.frame('queue', JSON.stringify({ queue, ...event }), this.id()));
      return;
    }
    const progress = decodeProgressEvent(text);
    if (progress) {
      this.write(this.frame('progress', JSON.stringify({ queue, ...progress })));
      return;
    }
    this.o.logger.debug({ queue }, 'an events message of no known shape: skipped');
  }

  /** A message of the flow events channel, as a `flow` event. */
  private passFlow(text: string): void {
    const event = decodeFlowEvent(text);
    if (!event) {
      this.o.logger.debug('a flow events message of no known shape: skipped');
      return;
    }
    this.write(this.frame('flow', JSON.stringify(event)));
  }

  /** Whether a live record is older than what the client has: its position, or the replay's record of the task. */
  private stale(queue: string, rec: StatusRecord): boolean {
    const floor = this.floor.get(queue);
    if (floor !== undefined && rec.seq <= floor) return true;
    const sent = this.sent.get(queue)?.get(rec.id);
    if (!sent) return false;
    if (sent.kind === 'stored') return rec.seq <= sent.seq;
    // the replay's Queued stood for the enqueue's record: that record, if it comes, is the task's first
    this.sent.get(queue)?.delete(rec.id);
    return rec.status === 'Queued' && rec.attempt === 0 && rec.at === sent.enqueuedAt && rec.reason === undefined;
  }

  private advance(queue: string, seq: number, at: number, paused?: boolean): void {
    const p = this.position.get(queue);
    if (p && seq > p.seq) this.place(queue, { seq, at, epoch: p.epoch, paused: paused ?? p.paused });
  }

  /** Sets the stream's position in `queue`. */
  private place(queue: string, p: QueuePosition): void {
    if (!this.position.has(queue)) this.ordered = [...this.ordered, queue].sort();
    this.position.set(queue, p);
    this.parts.set(queue, encodePair(queue, p));
    this.idText = undefined;
  }

  /** The id of the stream's position now (what encodeEventId gives, built from the queues' parts). */
  private id(): string {
    this.idText ??= this.ordered.length === 0 ? NO_QUEUE_ID : this.ordered.map((q) => this.parts.get(q)).join('&');
    return this.idText;
  }

  private frame(event: string, data: string, id?: string): string {
    return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`;
  }

  /** Writes now (live events, comments); closes a stream whose client cannot keep up. */
  private write(text: string): void {
    const res = this.res;
    if (this.closed || !res || res.destroyed) return;
    res.write(text);
    this.overLimit();
  }

  /** Writes a replayed event, waiting while the socket is full (the replay can be long). */
  private async writeReplay(text: string): Promise<void> {
    const res = this.res;
    if (this.closed || !res || res.destroyed) return;
    if (res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  /** Closes the stream when its client holds more than maxBufferedBytes; whether it did. */
  private overLimit(): boolean {
    const held = this.pendingBytes + (this.res?.writableLength ?? 0);
    if (held <= this.maxBuffered) return false;
    this.o.logger.warn(
      { heldBytes: held, limit: this.maxBuffered },
      `closing an event stream whose client does not keep up (${held} bytes held, limit ${this.maxBuffered}); it resumes with its Last-Event-ID`,
    );
    this.close('its client did not keep up', true);
    return true;
  }
}
