import type { ProgressUpdate, QueueEvent, TaskProgress } from '@taskq/queue';
import type { StatusRecord } from '@taskq/recorder';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `12:00:01.234`: the time of day of `ms` (local time), to the millisecond. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `2026-12-04T04:40:00.000Z`, or `-` for none. */
export function isoTime(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '-' : new Date(ms).toISOString();
}

/** A duration as people read it: `850ms`, `4.2s`, `3m05s`, `2h03m`, `3d04h`. */
export function duration(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)}s`;
  const s = Math.floor(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/**
 * One line of `taskq watch` for a status record:
 * `12:00:01.234 default task_1 InProgress worker-4711-1 attempt 1`, then,
 * when the record has them, `due 12:00:03.000` and `: <reason>`.
 */
export function recordLine(queue: string, r: StatusRecord): string {
  let line = `${clock(r.at)} ${queue} ${r.id} ${r.status}`;
  if (r.worker) line += ` ${r.worker}`;
  line += ` attempt ${r.attempt}`;
  if (r.runAt !== undefined) line += ` due ${clock(r.runAt)}`;
  if (r.reason) line += `: ${oneLine(r.reason)}`;
  return line;
}

/** One line of `taskq watch` for a queue event: `12:00:01.234 default queue paused: maintenance`. */
export function queueEventLine(queue: string, e: QueueEvent): string {
  return `${clock(e.at)} ${queue} queue ${e.event}${e.reason ? `: ${oneLine(e.reason)}` : ''}`;
}

/** A progress report as `40% (4/10) copying`: percent, steps when given, message. */
export function progressText(p: TaskProgress): string {
  const counts = p.done !== undefined && p.total !== undefined ? ` (${p.done}/${p.total})` : '';
  return `${p.pct}%${counts}${p.msg ? ` ${oneLine(p.msg)}` : ''}`;
}

/** One line of `taskq watch` for a task's progress report: `12:00:01.234 default task_1 progress 40% (4/10)`. */
export function progressLine(queue: string, u: ProgressUpdate): string {
  return `${clock(u.at)} ${queue} ${u.id} progress ${progressText(u)}`;
}

/** Text on one line: line breaks and tabs as spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ');
}

/** A JSON value shortened for a table cell: `{"to":"a@example.com","body":"…` beyond `max` characters. */
export function preview(value: unknown, max = 40): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
