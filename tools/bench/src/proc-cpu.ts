import { existsSync, readFileSync } from 'node:fs';

/** Linux's clock tick (USER_HZ): /proc/<pid>/stat counts CPU time in hundredths of a second. */
const MS_PER_TICK = 10;

/**
 * utime + stime of a process, ms, from the text of its /proc/<pid>/stat. The
 * name field is in parentheses and may hold spaces and parentheses, so the
 * fields are counted from the last `) `.
 */
export function procStatCpuMs(stat: string): number {
  const end = stat.lastIndexOf(') ');
  if (end < 0) throw new Error('not a /proc/<pid>/stat line');
  // after the name: state (3rd field), …, utime (14th), stime (15th)
  const fields = stat.slice(end + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no utime/stime in the /proc/<pid>/stat line');
  return (utime + stime) * MS_PER_TICK;
}

/** utime + stime of a running process, ms (Linux /proc; 10 ms clock ticks). */
export function processCpuMs(pid: number): number {
  return procStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of running processes, summed, ms. */
export function processesCpuMs(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + processCpuMs(pid), 0);
}

/** Whether processCpuMs can work here (Linux's /proc). */
export function canReadProcessCpu(): boolean {
  return existsSync('/proc/self/stat');
}
