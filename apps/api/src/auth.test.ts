import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearerToken, loadTokens, TokenConfigError, Tokens } from './auth';

const ADMIN = 'admin-token-0123456789';
const READ = 'read-token-0123456789';

describe('Tokens', () => {
  it('tells the role of a token, and nothing for a wrong or partial one', () => {
    const tokens = new Tokens([
      { token: ADMIN, role: 'admin' },
      { token: READ, role: 'read' },
    ]);
    expect(tokens.configured).toBe(true);
    expect(tokens.roleOf(ADMIN)).toBe('admin');
    expect(tokens.roleOf(READ)).toBe('read');
    expect(tokens.roleOf(ADMIN.slice(0, -1))).toBeUndefined();
    expect(tokens.roleOf(`${ADMIN}x`)).toBeUndefined();
    expect(tokens.roleOf('')).toBeUndefined();
  });

  it('a token given as both roles is admin', () => {
    expect(new Tokens([{ token: ADMIN, role: 'read' }, { token: ADMIN, role: 'admin' }]).roleOf(ADMIN)).toBe('admin');
  });

  it('none configured: not configured', () => {
    expect(new Tokens([]).configured).toBe(false);
  });

  it('refuses short tokens and tokens with white space', () => {
    expect(() => new Tokens([{ token: 'short', role: 'admin' }])).toThrow('an API token must be at least 16 characters (a admin token has 5)');
    expect(() => new Tokens([{ token: 'with space 0123456789', role: 'read' }])).toThrow(TokenConfigError);
  });
});

describe('loadTokens', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'taskq-api-tokens-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads comma-separated lists from the environment', () => {
    const tokens = loadTokens({ TASKQ_API_ADMIN_TOKENS: ` ${ADMIN} ,`, TASKQ_API_READ_TOKENS: `${READ},read-two-0123456789` }, undefined);
    expect([tokens.roleOf(ADMIN), tokens.roleOf(READ), tokens.roleOf('read-two-0123456789')]).toEqual(['admin', 'read', 'read']);
  });

  it('reads a file of "<role> <token>" lines, skipping comments and blank lines; a bad line names its number', () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, `# the ops team\nadmin ${ADMIN}\n\nread ${READ}\n`);
    expect(loadTokens({}, file).roleOf(READ)).toBe('read');
    writeFileSync(file, `admin ${ADMIN}\nwriter ${READ}\n`);
    expect(() => loadTokens({}, file)).toThrow(`${file}:2: expected "admin <token>" or "read <token>"`);
    expect(() => loadTokens({}, join(dir, 'missing'))).toThrow(/cannot read the tokens file/);
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer header, any case of the scheme', () => {
    expect(bearerToken(`Bearer ${ADMIN}`)).toBe(ADMIN);
    expect(bearerToken(`bearer ${ADMIN}`)).toBe(ADMIN);
    expect(bearerToken(`Basic ${ADMIN}`)).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
  });
});
