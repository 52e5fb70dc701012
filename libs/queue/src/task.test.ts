import { DEFAULT_BACKOFF } from './backoff';
import { InvalidTaskError } from './errors/invalid-task-error';
import { DEFAULT_MAX_ATTEMPTS, decodeTask, encodeTaskTail, validateInput } from './task';

/** The body enqueue.lua stores: the Redis time in front of the tail. */
const stored = (tail: string, at = 1790000000123): string => `[${at},${tail}`;

describe('task encoding', () => {
  it('stores a task with default options as [enqueuedAt, type, payload] and decodes it back', () => {
    const tail = encodeTaskTail({ type: 'email', payload: { to: 'a@b.c', n: 1 } }, 'x');
    expect(stored(tail)).toBe('[1790000000123,"email",{"to":"a@b.c","n":1}]');
    expect(decodeTask('x', stored(tail))).toEqual({
      id: 'x',
      type: 'email',
      payload: { to: 'a@b.c', n: 1 },
      enqueuedAt: 1790000000123,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoff: DEFAULT_BACKOFF,
      priority: 5,
    });
  });

  it('stores a priority other than the default (5) in the options and decodes it back; refuses one outside 0-9', () => {
    const tail = encodeTaskTail({ type: 'email', payload: null, priority: 8 }, 'x');
    expect(stored(tail)).toBe('[1790000000123,"email",null,{"priority":8}]');
    expect(decodeTask('x', stored(tail)).priority).toBe(8);
    expect(stored(encodeTaskTail({ type: 'email', payload: null, priority: 5 }, 'x'))).toBe('[1790000000123,"email",null]');
    expect(decodeTask('x', stored(encodeTaskTail({ type: 'email', payload: null, priority: 0 }, 'x'))).priority).toBe(0);
    for (const bad of [-1, 10, 2.5, Number.NaN]) {
      expect(() => validateInput({ type: 'email', priority: bad })).toThrow(`priority must be a whole number from 0 to 9, got ${String(bad)}`);
    }
  });

  it('keeps options that differ from the defaults, and a missing payload as null', () => {
    const input = { type: 't', maxAttempts: 7, backoff: { type: 'fixed' as const, delayMs: 50 }, timeoutMs: 900 };
    const task = decodeTask('y', stored(encodeTaskTail(input, 'y')));
    expect(task).toMatchObject({ type: 't', payload: null, maxAttempts: 7, backoff: { type: 'fixed', delayMs: 50 }, timeoutMs: 900 });
  });

  it('still reads the object an earlier version stored', () => {
    const task = decodeTask('old', '{"type":"t","payload":[1],"enqueuedAt":5,"maxAttempts":2}');
    expect(task).toMatchObject({ id: 'old', type: 't', payload: [1], enqueuedAt: 5, maxAttempts: 2 });
  });

  it.each([
    ['not JSON', '[1,"t"', 'payload is not valid JSON'],
    ['a number', '42', 'not a JSON array or object'],
    ['no type', '[1,"",null]', 'has no type'],
    ['options that are not an object', '[1,"t",null,[2]]', 'options are not an object'],
  ])('rejects a stored body that is %s', (_what, raw, message) => {
    expect(() => decodeTask('z', raw)).toThrow(InvalidTaskError);
    expect(() => decodeTask('z', raw)).toThrow(message);
  });

  it('names the task and the path when its payload would not come back from JSON unchanged', () => {
    expect(() => encodeTaskTail({ type: 't', payload: { n: 10n } }, 'big-1')).toThrow(InvalidTaskError);
    expect(() => encodeTaskTail({ type: 't', payload: { n: 10n } }, 'big-1')).toThrow('task big-1: payload.n is a bigint (10n)');
    expect(() => encodeTaskTail({ type: 't', payload: { a: NaN } }, 'x')).toThrow('task x: payload.a is NaN, which JSON cannot represent');
    expect(() => encodeTaskTail({ type: 't', payload: { m: new Map() } }, 'x')).toThrow('task x: payload.m is a Map');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => encodeTaskTail({ type: 't', payload: cyclic }, 'x')).toThrow('task x: payload.self refers back to payload (a cycle)');
  });

  it('stores a missing or undefined payload as null (the default), and leaves out undefined properties', () => {
    expect(encodeTaskTail({ type: 't', payload: undefined }, 'x')).toBe('"t",null]');
    expect(encodeTaskTail({ type: 't', payload: { a: 1, b: undefined } }, 'x')).toBe('"t",{"a":1}]');
  });

  it.each([
    ['a quote', 'a"b'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\u0001b'],
    ['DEL', 'a\u007fb'],
    ['a space', 'a b'],
    ['a newline', 'a\nb'],
    ['U+0085 NEXT LINE (a C1 control character, not white space to \\s)', 'a\u0085b'],
    ['U+009F (the last C1 control character)', 'a\u009fb'],
    ['U+0080 (the first C1 control character)', 'a\u0080b'],
    ['U+2028 LINE SEPARATOR', 'a\u2028b'],
    ['a lone high surrogate', 'ls_\uD800'],
    ['a lone low surrogate', 'ls_\uDBFF'],
    ['a low surrogate before a high one', 'ls_\uDE00\uD83D'],
  ])('rejects an id with %s', (_what, id) => {
    expect(() => validateInput({ type: 't', id })).toThrow(InvalidTaskError);
    expect(() => validateInput({ type: 't', id })).toThrow('without spaces, quotes, backslashes or control characters');
  });

  it('says what is wrong with an id, and where', () => {
    expect(() => validateInput({ type: 't', id: 'ls_\uD800' })).toThrow(
      'task id must be 1-256 characters without spaces, quotes, backslashes or control characters, got "ls_\\ud800": a lone UTF-16 surrogate at index 3 (not well-formed Unicode: Redis would get U+FFFD)',
    );
    expect(() => validateInput({ type: 't', id: 'ab\u0085' })).toThrow(/: U\+0085 \(a control character\) at index 2$/);
    expect(() => validateInput({ type: 't', id: 'x'.repeat(257) })).toThrow(/: 257 characters, not 1-256$/);
    expect(() => validateInput({ type: 't', id: 5 as unknown as string })).toThrow(/got 5: a number$/);
  });

  it('accepts ids of punctuation and UTF-8, surrogate pairs included', () => {
    for (const id of ['order:123/é', "it's-{ok}", '中文-✓', 'emoji-😀', '©2026', 'x'.repeat(256)]) expect(validateInput({ type: 't', id })).toBe('0');
    expect(() => validateInput({ type: 't', id: 'x'.repeat(257) })).toThrow(InvalidTaskError);
  });

  it('reserves all-digit ids for generated ids', () => {
    expect(() => validateInput({ type: 't', id: '123' })).toThrow(/all digits/);
    expect(validateInput({ type: 't', id: 'order-123' })).toBe('0');
  });
});
