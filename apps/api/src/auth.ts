import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What a token may do: read (GET) or everything. */
export type Role = 'read' | 'admin';

/** Shortest token taken: a guessable one is refused at start-up. */
export const MIN_TOKEN_LENGTH = 16;

/** Environment variables of the tokens: comma-separated lists. */
export const TOKEN_ENV = { admin: 'TASKQ_API_ADMIN_TOKENS', read: 'TASKQ_API_READ_TOKENS' } as const;

/** A start-up problem with the tokens (exit 2). */
export class TokenConfigError extends Error {
  override readonly name = 'TokenConfigError';
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * The API's bearer tokens, kept as SHA-256 digests. A check compares the
 * digest of the token given with every token's, each in constant time and
 * without stopping at a match, so the time it takes says nothing about
 * which token (or how much of one) matched.
 */
export class Tokens {
  private readonly entries: { readonly digest: Buffer; readonly role: Role }[];

  constructor(tokens: readonly { readonly token: string; readonly role: Role }[]) {
    this.entries = tokens.map(({ token, role }) => {
      if (token.length < MIN_TOKEN_LENGTH) throw new TokenConfigError(`an API token must be at least ${MIN_TOKEN_LENGTH} characters (a ${role} token has ${token.length})`);
      if (/\s/.test(token)) throw new TokenConfigError(`an API token must not contain white space (a ${role} token does)`);
      return { digest: digest(token), role };
    });
  }

  /** Whether any token is configured (without one, the API listens on 127.0.0.1 only). */
  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The role of `token`, or undefined when it is none of them. */
  roleOf(token: string): Role | undefined {
    const given = digest(token);
    let role: Role | undefined;
    for (const entry of this.entries) {
      // no early exit: every entry is compared
      if (timingSafeEqual(given, entry.digest) && role !== 'admin') role = entry.role;
    }
    return role;
  }
}

/**
 * Tokens from the environment (TASKQ_API_ADMIN_TOKENS, TASKQ_API_READ_TOKENS:
 * comma-separated) and, when given, a file of `admin <token>` / `read
 * <token>` lines (`#` comments and blank lines skipped).
 */
export function loadTokens(env: NodeJS.ProcessEnv, file: string | undefined): Tokens {
  const tokens: { token: string; role: Role }[] = [];
  for (const role of ['admin', 'read'] as const) {
    for (const token of (env[TOKEN_ENV[role]] ?? '').split(',').map((t) => t.trim())) if (token !== '') tokens.push({ token, role });
  }
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new TokenConfigError(`cannot read the tokens file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const [role, token, ...rest] = line.split(/\s+/);
      if ((role !== 'admin' && role !== 'read') || token === undefined || rest.length > 0) {
        throw new TokenConfigError(`${file}:${i + 1}: expected "admin <token>" or "read <token>"`);
      }
      tokens.push({ token, role });
    });
  }
  return new Tokens(tokens);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m?.[1];
}
