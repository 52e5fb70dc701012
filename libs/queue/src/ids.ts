import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Random bytes drawn in bulk: one randomBytes call per 1024 ids rather than one per id (it dominated enqueue). */
const RANDOM_PER_ID = 5;
const POOL_IDS = 1024;
let pool = Buffer.alloc(0);
let offset = 0;

function randomHex(): string {
  if (offset + RANDOM_PER_ID > pool.length) {
    pool = randomBytes(RANDOM_PER_ID * POOL_IDS);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + RANDOM_PER_ID);
  offset += RANDOM_PER_ID;
  return hex;
}

/** A generated task id: time-ordered prefix plus randomness, e.g. `t_m3k2x1a9_5f2c9e1b04`. */
export function newTaskId(): string {
  return `t_${Date.now().toString(36)}_${randomHex()}`;
}

/** A consumer id unique across machines and restarts: `<host>-<pid>-<random>`. */
export function newConsumerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
