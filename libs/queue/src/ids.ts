import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A consumer id unique across machines and restarts: `<host>-<pid>-<random>`. */
export function newConsumerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
