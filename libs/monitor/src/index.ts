export { Monitor } from './monitor';
export type { MonitorOptions } from './monitor-options';
export { MONITOR_OPTIONS, DEFAULT_MONITOR_OPTIONS } from './monitor-options';
export type { RedisFactory } from './redis-factory';
export type { StatusCallback, StatusFilter } from './status-listeners';
export { ANY } from './status-listeners';
export type { WaitForOptions } from './wait-for';
export { MonitorTimeoutError } from './monitor-timeout-error';
export { MonitorNotRunningError } from './monitor-not-running-error';
