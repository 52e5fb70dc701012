import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { StatusRecord, TaskStatus } from '@taskq/recorder';
import { keysOf, type QueueConfig, type QueueKeys } from '@taskq/queue';
import { Monitor } from '../monitor';
import type { MonitorOptions } from '../monitor-options';
import { CaptureLogger } from './capture-logger';
import { recordSilently, recordStatus, type RecordInput } from './record-status';

// ioredis-mock instances on one host/port share data: one port per harness.
let nextPort = 41000;

/** A monitor on its own in-memory Redis, with helpers to write real records. */
export class Harness {
  readonly port = nextPort++;
  readonly config: QueueConfig = { queue: `q${this.port}` };
  readonly keys: QueueKeys = keysOf(this.config);
  readonly redis: Redis = new RedisMock({ port: this.port });
  readonly logger = new CaptureLogger();
  /** Every connection the monitor asked its factory for. */
  readonly subscribers: Redis[] = [];
  readonly factory = (): Redis => {
    const client = new RedisMock({ port: this.port });
    this.subscribers.push(client);
    return client;
  };
  readonly monitor: Monitor;

  constructor(options: MonitorOptions = {}) {
    // the monitor's subscriber connections come from the client's duplicate(): count them
    this.redis.duplicate = this.factory;
    this.monitor = this.newMonitor(options);
  }

  /** Another monitor on the harness's Redis (with the harness's logger unless options say otherwise). */
  newMonitor(options: MonitorOptions = {}): Monitor {
    return new Monitor({ ...this.config, connection: this.redis, logger: this.logger, ...options });
  }

  record(id: string, status: TaskStatus, extra: Omit<RecordInput, 'id' | 'status'> = {}): Promise<StatusRecord> {
    return recordStatus(this.redis, this.keys, { id, status, ...extra });
  }

  recordSilently(id: string, status: TaskStatus, extra: Omit<RecordInput, 'id' | 'status'> = {}): Promise<StatusRecord> {
    return recordSilently(this.redis, this.keys, { id, status, ...extra });
  }

  /** Resolves with the next applied record of `taskId` (or any task, `'*'`) in `status`. */
  next(taskId: string, status: TaskStatus | '*' = '*'): Promise<StatusRecord> {
    return new Promise((resolve) => {
      const off = this.monitor.onStatus(taskId, status, (record) => {
        off();
        resolve(record);
      });
    });
  }

  async close(): Promise<void> {
    await this.monitor.stop();
    for (const client of this.subscribers) client.disconnect();
    this.redis.disconnect();
  }
}
