import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A consumer id unique across machines and restarts: `<host>-<pid>-<random>`. */
export function newConsumerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Characters a status record escapes (JSON's, and DEL): a task id has none, so records carry ids as they are. */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f]/;

/** Whether a worker name (or task id) can be written into a status record as it is: not empty, nothing to escape. */
export function isPlain(name: string): boolean {
  return name !== '' && !NEEDS_ESCAPE.test(name);
}

/** Longest task id, in UTF-16 code units (JavaScript string length). */
export const MAX_ID_LENGTH = 256;

/** The rule of task ids, as error messages state it (idProblem adds what is wrong, a lone surrogate included). */
export const ID_RULE = 'task id must be 1-256 characters without spaces, quotes, backslashes or control characters';

/**
 * What a task id may not contain: white space (`\s`, Unicode's included),
 * quotes and backslashes (records carry ids unescaped), and control
 * characters: all of Unicode category Cc, C0 (U+0000–U+001F), DEL and C1
 * (U+0080–U+009F, such as U+0085 NEXT LINE, which `\s` does not cover).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const ID_FORBIDDEN = /[\s"\\\u0000-\u001f\u007f-\u009f]/;

/** A surrogate that is not half of a pair (with the u flag, a pair is one code point and does not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Why `id` cannot be a task id (or a part of one, with `minLength` 0), or
 * undefined when it can: 1-256 characters, well-formed Unicode (a lone UTF-16
 * surrogate is sent to Redis as U+FFFD, so two different ids would name one
 * task), without white space, quotes, backslashes or control characters.
 * All-digit ids (the generated ones) are checked by the caller.
 */
export function idProblem(id: string, minLength = 1, maxLength = MAX_ID_LENGTH): string | undefined {
  if (id.length < minLength || id.length > maxLength) return `${id.length} characters, not ${minLength}-${maxLength}`;
  const lone = LONE_SURROGATE.exec(id);
  if (lone) return `a lone UTF-16 surrogate at index ${lone.index} (not well-formed Unicode: Redis would get U+FFFD)`;
  const bad = ID_FORBIDDEN.exec(id);
  if (bad) return `${describeChar(bad[0])} at index ${bad.index}`;
  return undefined;
}

/** `a space`, `a quote`, `U+0085 (a control character)`. */
function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (c === '"') return 'a quote';
  if (c === '\\') return 'a backslash';
  const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  // eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
  return /[\u0000-\u001f\u007f-\u009f]/.test(c) ? `${code} (a control character)` : `${code} (white space)`;
}
