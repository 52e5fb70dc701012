import type { Consumer } from '@taskq/queue';

interface PendingAck {
  readonly id: string;
  readonly worker: string;
  readonly token: string;
  resolve(ok: boolean): void;
  reject(err: unknown): void;
}

/**
 * Collects the acks of tasks that finish in the same turn of the event loop
 * and sends them as one `ackMany` script: one round trip for many tasks,
 * each still acknowledged (or refused) on its own, atomically with its
 * status record.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private scheduled = false;

  constructor(
    private readonly consumer: Consumer,
    /** Most acks per script call. */
    private readonly maxBatch = 500,
  ) {}

  /** Resolves true once acknowledged, false if refused (stale fencing token). */
  ack(id: string, worker: string, token: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ id, worker, token, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    this.consumer.ackMany(batch).then(
      (flags) => batch.forEach((p, i) => p.resolve(flags[i] === true)),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  }
}
