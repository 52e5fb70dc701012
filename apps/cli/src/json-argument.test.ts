import { jsonSyntaxProblem, parseJsonArgument } from './json-argument';

describe('parseJsonArgument', () => {
  it.each([
    ['{"ms":100}', { ms: 100 }],
    [' [1, "two", null, true, -0.5e3] ', [1, 'two', null, true, -500]],
    ['"\\u00e9\\n"', 'é\n'],
    ['7', 7],
  ])('parses %s', (text, value) => {
    expect(parseJsonArgument('<payload>', text)).toEqual(value);
  });

  // JSON.parse says "Unexpected token '}', "{"ms":}" is not valid JSON" for some of these: no position
  it.each([
    ['{"ms":}', 6, 'expected a value, found "}"'],
    ['[1,2,]', 5, 'expected a value, found "]"'],
    ['{ms:1}', 1, 'expected a property name in double quotes, found "m"'],
    ['{"a":1} x', 8, 'unexpected "x" after the value'],
    ['{"a":1', 6, "expected ',' or '}', found the end of the text"],
    ['"abc', 4, 'unterminated string'],
    ['', 0, 'expected a value, found the end of the text'],
    ['01', 1, 'unexpected "1" after the value'],
    ["{'a':1}", 1, 'expected a property name in double quotes'],
    ['"a\\x"', 2, 'bad escape "\\\\x"'],
  ])('%j: the position and what is wrong', (text, position, message) => {
    const problem = jsonSyntaxProblem(text);
    expect(problem?.position).toBe(position);
    expect(problem?.message).toContain(message);
    expect(() => void JSON.parse(text)).toThrow(); // the locator agrees with JSON.parse that it is invalid
  });

  it('gives the line and column of a problem in a text of several lines', () => {
    expect(() => parseJsonArgument('<payload>', '{\n  "a": 1,\n  "b": }')).toThrow(
      '<payload> is not valid JSON: expected a value, found "}" at position 19 (line 3, column 8)',
    );
  });

  it('finds no problem where JSON.parse finds none', () => {
    for (const text of ['{}', '[]', '{"a":[{"b":{}}]}', '1e5', '"\\"\\/\\\\"', ' null ']) {
      expect(() => void JSON.parse(text)).not.toThrow();
      expect(jsonSyntaxProblem(text)).toBeUndefined();
    }
  });
});
