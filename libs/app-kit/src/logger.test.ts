import { Writable } from 'node:stream';
import { createLogger, prettyLine } from './logger';
import { positiveInt } from './cli';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('prettyLine', () => {
  it('labels task lines with their sub-worker and keeps the Monitor label', () => {
    expect(prettyLine(JSON.stringify({ level: 30, name: 'worker', worker: 'worker-4711-2', msg: 'START task_18' }))).toBe(
      '[worker-4711-2] START task_18\n',
    );
    expect(prettyLine(JSON.stringify({ level: 30, name: 'producer', msg: '[Monitor] Task task_12 is Done' }))).toBe(
      '[Monitor] Task task_12 is Done\n',
    );
    expect(prettyLine(JSON.stringify({ level: 40, name: 'worker', msg: 'heartbeat failed', err: { message: 'ECONNRESET' } }))).toBe(
      '[worker] WARN heartbeat failed (ECONNRESET)\n',
    );
    expect(prettyLine('not json')).toBe('not json');
    expect(prettyLine(JSON.stringify({ level: 30, worker: { id: 7 }, msg: { n: 1 } }))).toBe('[{"id":7}] {"n":1}\n');
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the task fields in json format', () => {
    const { stream, lines } = capture();
    const log = createLogger({ name: 'worker', format: 'json', stream });
    log.child({ taskId: 't1', queue: 'q', attempt: 1, worker: 'worker-1-1' }).info('START t1');
    const line = JSON.parse(lines()[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ name: 'worker', taskId: 't1', queue: 'q', attempt: 1, worker: 'worker-1-1', msg: 'START t1' });
  });

  it('writes readable lines in pretty format and honours the level', () => {
    const { stream, lines } = capture();
    const log = createLogger({ name: 'producer', format: 'pretty', level: 'warn', stream });
    log.info('hidden');
    log.warn('shown');
    expect(lines()).toEqual(['[producer] WARN shown']);
  });
});

describe('positiveInt', () => {
  it('accepts whole numbers >= 1 and explains everything else', () => {
    expect(positiveInt('count', '20')).toBe(20);
    expect(positiveInt('count', 3)).toBe(3);
    for (const bad of ['abc', '0', '-3', '1.5', '', true]) {
      expect(() => positiveInt('count', bad)).toThrow(/count must be a whole number >= 1/);
    }
  });

  it('takes a string only as decimal digits: 1e1 and 0x10 are not 10 and 16', () => {
    expect(positiveInt('count', '0010')).toBe(10);
    for (const bad of ['1e1', '0x10', '0b11', '0o17', ' 5', '+5', '5.0']) {
      expect(() => positiveInt('count', bad)).toThrow(`count must be a whole number >= 1, got ${JSON.stringify(bad)}: write it in decimal digits (0-9) only`);
    }
    expect(() => positiveInt('count', '1_000')).toThrow(/got "1_000"/);
  });

  it('is bounded: by max, and by default where whole numbers stop being exact', () => {
    expect(positiveInt('n', '5', 5)).toBe(5);
    expect(() => positiveInt('n', '6', 5)).toThrow('n must be at most 5, got "6"');
    expect(positiveInt('n', String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => positiveInt('n', '9007199254740993')).toThrow('n must be at most 9007199254740991, got "9007199254740993"');
  });
});
