import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import { BeatFailureLog } from './heartbeat';

function keeping(lines: string[]): Logger {
  const keep =
    (level: string): LogFn =>
    (a: object | string, msg?: string) => {
      lines.push(`${level} ${typeof a === 'string' ? a : (msg ?? '')}`);
    };
  return { ...silentLogger, warn: keep('warn'), info: keep('info'), child: () => keeping(lines) };
}

describe('BeatFailureLog', () => {
  it('logs the first failed beat of a run and every 10th, then once that beats work again', () => {
    const lines: string[] = [];
    const log = new BeatFailureLog(keeping(lines));
    log.succeeded(); // nothing failed: nothing to say
    for (let i = 0; i < 25; i++) log.failed('OOM command not allowed when used memory > maxmemory');
    log.succeeded();
    log.succeeded();
    log.failed('ECONNRESET');
    expect(lines).toEqual([
      'warn heartbeat failed: OOM command not allowed when used memory > maxmemory',
      'warn heartbeat failed (10 in a row): OOM command not allowed when used memory > maxmemory',
      'warn heartbeat failed (20 in a row): OOM command not allowed when used memory > maxmemory',
      'info heartbeats work again after 25 failed',
      'warn heartbeat failed: ECONNRESET',
    ]);
  });
});
