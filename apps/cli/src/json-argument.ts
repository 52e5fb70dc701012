import type { JsonValue } from '@taskq/queue';

/** Where a JSON text is not valid, and why: `position` counts UTF-16 code units from 0, `line` and `column` from 1. */
export interface JsonSyntaxProblem {
  readonly position: number;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Parses a JSON command-line argument; a syntax error is an Error that says
 * where: `<name> is not valid JSON: expected a value at position 5 (line 1,
 * column 6)`. (JSON.parse's own messages give no position for some errors.)
 */
export function parseJsonArgument(name: string, text: string): JsonValue {
  const problem = jsonSyntaxProblem(text);
  if (problem !== undefined) {
    throw new Error(`${name} is not valid JSON: ${problem.message} at position ${problem.position} (line ${problem.line}, column ${problem.column})`);
  }
  return JSON.parse(text) as JsonValue;
}

/** The first syntax error of a JSON text (RFC 8259: one value, white space around it), or undefined when it is valid. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  class Stop extends Error {
    constructor(
      readonly at: number,
      why: string,
    ) {
      super(why);
    }
  }
  const fail = (why: string, at = i): never => {
    throw new Stop(at, why);
  };
  const describe = (): string => (i >= text.length ? 'the end of the text' : `${JSON.stringify(text[i])}`);
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`expected a value, found ${describe()}`);
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return;
      }
      if (ch < 0x20) fail('control character in a string (write it as an escape, e.g. \\n)');
      if (ch === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape: four hex digits expected');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`bad escape ${JSON.stringify(`\\${e ?? ''}`)}`);
      } else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`expected a value, found ${describe()}`);
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe()}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${describe()}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}', found ${describe()}`);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']', found ${describe()}`);
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    return number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the value`);
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.at);
    const lineStart = before.lastIndexOf('\n') + 1;
    return { position: err.at, line: before.split('\n').length, column: err.at - lineStart + 1, message: err.message };
  }
}
