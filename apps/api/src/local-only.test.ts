import { localOnlyProblem } from './server';

// Without tokens the API serves this machine only: its Host must be local, and a page of another origin may not change anything.
describe('localOnlyProblem (no token configured)', () => {
  it('serves requests to 127.0.0.1, localhost and [::1], with or without a port, from programs (no Origin) and from its own pages', () => {
    for (const host of ['127.0.0.1:8080', '127.0.0.1', 'localhost:8080', 'LOCALHOST:1', '[::1]:8080']) expect(localOnlyProblem(host, undefined, 'POST')).toBeUndefined();
    expect(localOnlyProblem('127.0.0.1:8080', 'http://127.0.0.1:8080', 'POST')).toBeUndefined();
    // a read from anywhere the browser lets through (it does not let another site read the reply)
    expect(localOnlyProblem('127.0.0.1:8080', 'https://elsewhere.example', 'GET')).toBeUndefined();
  });

  it('refuses another Host (a DNS-rebinding page sends its own name) and a change from a page of another origin', () => {
    expect(localOnlyProblem('evil.example:8080', undefined, 'GET')).toBe('no API token is configured, so only requests to 127.0.0.1 or localhost are served, not to "evil.example:8080"');
    expect(localOnlyProblem(undefined, undefined, 'GET')).toMatch(/not to no Host$/);
    expect(localOnlyProblem('127.0.0.1.evil.example', undefined, 'GET')).toBeDefined();
    expect(localOnlyProblem('127.0.0.1:8080', 'https://elsewhere.example', 'POST')).toBe(
      'no API token is configured, so a page of another origin (https://elsewhere.example) may not change anything here',
    );
    expect(localOnlyProblem('127.0.0.1:8080', 'http://localhost:8080', 'POST')).toBeDefined();
    expect(localOnlyProblem('127.0.0.1:8080', 'null', 'DELETE')).toBeDefined();
  });
});
