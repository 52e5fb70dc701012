import { canReadProcessCpu, procStatCpuMs, processCpuMs } from './proc-cpu';

describe('procStatCpuMs', () => {
  // a real line's shape: pid (comm) state ppid … utime stime …, here utime 1234 and stime 56 ticks
  const line = (comm: string): string => `4242 (${comm}) S 1 4242 4242 0 -1 4194560 2048 0 0 0 1234 56 0 0 20 0 5 0 100 123456789 2048 18446744073709551615`;

  it('adds utime and stime, 10 ms a clock tick', () => {
    expect(procStatCpuMs(line('redis-server'))).toBe(12_900);
  });

  it('counts the fields after the last ") ", whatever the process name holds', () => {
    expect(procStatCpuMs(line('node worker) 1 2 (x'))).toBe(12_900);
  });

  it('refuses what is not a stat line', () => {
    expect(() => procStatCpuMs('')).toThrow(/not a \/proc/);
    expect(() => procStatCpuMs('1 (x) S 1')).toThrow(/no utime/);
  });
});

describe('processCpuMs', () => {
  (canReadProcessCpu() ? it : it.skip)('reads the CPU time this process has spent (Linux)', () => {
    // loading and compiling the test took well over one 10 ms tick
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
  });
});
