import type { AckItem, Consumer } from '@taskq/queue';

/** Called once per ack: (undefined, acknowledged?) or (error) when its round trip failed. */
export type AckCallback = (err: unknown, ok: boolean) => void;

interface PendingAck extends AckItem {
  readonly done: AckCallback;
  /** performance.now() when it was queued. */
  readonly queuedAt: number;
}

/** Tells one ack's outcome; a callback that throws does not keep the others from hearing theirs. */
function notify(p: PendingAck, err: unknown, ok: boolean): void {
  try {
    p.done(err, ok);
  } catch {
    // the callback's own failure is its task's business; the batch goes on
  }
}

/** Acks taken by the pool's loop to send with its next fetch; settle them with its result. */
export interface TakenAcks {
  readonly items: readonly AckItem[];
  settle(flags: readonly boolean[]): void;
  fail(err: unknown): void;
}

/**
 * Collects the acks of finished tasks. While the pool's loop runs it takes
 * them to send with its next fetch (one script, one round trip for both);
 * once the loop is over (the pool stops), sendDirectly() makes every ack go
 * as a batch of its own at the next turn of the event loop. Each task is
 * still acknowledged, or refused, on its own, atomically with its status
 * record.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private scheduled = false;
  private direct = false;

  constructor(
    private readonly consumer: Consumer,
    /** Most acks per script call. */
    private readonly maxBatch = 500,
    /** Called when an ack is queued (the pool wakes its loop to take it). */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  /** Resolves true once acknowledged, false if refused (stale fencing token). `result`: the handler's return value as JSON text (see encodeResult), stored with Done. */
  ack(id: string, worker: string, token: string, result?: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- err: the batch's failure as caught, passed on (unknown, narrowed to {} | null)
      this.ackWith(id, worker, token, (err, ok) => (err === undefined ? resolve(ok) : reject(err)), result);
    });
  }

  /** ack() with a callback instead of a promise (the pool's hot path). */
  ackWith(id: string, worker: string, token: string, done: AckCallback, result?: string): void {
    this.pending.push({ id, worker, token, done, result, queuedAt: performance.now() });
    if (this.direct) this.schedule();
    else this.onQueued();
  }

  /** performance.now() when the oldest pending ack was queued (none pending: undefined). */
  oldestQueuedAt(): number | undefined {
    return this.pending[0]?.queuedAt;
  }

  /** Takes up to maxBatch pending acks (none: undefined). */
  take(): TakenAcks | undefined {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending.splice(0, this.maxBatch);
    return {
      items: batch,
      settle: (flags) => batch.forEach((p, i) => notify(p, undefined, flags[i] === true)),
      fail: (err) => batch.forEach((p) => notify(p, err ?? new Error('ack failed'), false)),
    };
  }

  /** From now on acks do not wait for a loop to take them; what is pending goes now. */
  sendDirectly(): void {
    this.direct = true;
    if (this.pending.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (let taken = this.take(); taken; taken = this.take()) {
      const batch = taken;
      this.consumer.ackMany(batch.items).then(
        (flags) => batch.settle(flags),
        (err: unknown) => batch.fail(err),
      );
    }
  }
}
