import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A consumer id unique across machines and restarts: `<host>-<pid>-<random>`. */
export function newConsumerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Characters a status record escapes (JSON's, and DEL): a task id has none, so records carry ids as they are. */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f]/;

/** Whether a worker name (or task id) can be written into a status record as it is: not empty, nothing to escape. */
export function isPlain(name: string): boolean {
  return name !== '' && !NEEDS_ESCAPE.test(name);
}
