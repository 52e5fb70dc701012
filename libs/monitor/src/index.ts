export { Monitor } from './monitor';
export type { MonitorOptions, MonitorSettings } from './monitor-options';
export { DEFAULT_MONITOR_OPTIONS } from './monitor-options';
export type { StatusCallback, StatusFilter } from './status-listeners';
export { ANY } from './status-listeners';
export type { WaitForOptions } from './wait-for';
export { MonitorTimeoutError } from './monitor-timeout-error';
export { MonitorNotRunningError } from './monitor-not-running-error';
export { registerMonitor } from './register';
