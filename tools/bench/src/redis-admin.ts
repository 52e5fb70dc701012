import type { Redis } from 'ioredis';

/** Empties the bench's own redis-server between runs, so one system's keys never weigh on the next. */
export async function flushAll(admin: Redis): Promise<void> {
  await admin.flushall('SYNC');
}

/** A field of INFO <section>, as a string. */
export async function infoField(admin: Redis, section: string, field: string): Promise<string | undefined> {
  const info = await admin.info(section);
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/** INFO memory used_memory: bytes the allocator holds for data and overhead. */
export async function usedMemory(admin: Redis): Promise<number> {
  const value = Number(await infoField(admin, 'memory', 'used_memory'));
  if (!Number.isFinite(value)) throw new Error('INFO memory has no used_memory');
  return value;
}
