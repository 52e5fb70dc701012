import type { RecordKeys } from '../record-keys';

/** Record keys named as @taskq/queue names them (`taskq:{<queue>}:…`), for the recorder's own tests. */
export function testRecordKeys(queue: string, prefix = 'taskq'): RecordKeys & { readonly queue: string } {
  const base = `${prefix}:{${queue}}`;
  return { queue, status: `${base}:status`, tasks: `${base}:tasks`, seq: `${base}:seq`, events: `${base}:events` };
}
