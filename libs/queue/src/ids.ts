import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A generated task id: time-ordered prefix plus randomness, e.g. `t_m3k2x1a9_5f2c9e1b04`. */
export function newTaskId(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
}

/** A consumer id unique across machines and restarts: `<host>-<pid>-<random>`. */
export function newConsumerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
