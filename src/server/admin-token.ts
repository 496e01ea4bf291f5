import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The shortest admin token the server accepts: shorter ones can be guessed (the generated one has 32 characters). */
export const MIN_ADMIN_TOKEN_LENGTH = 24;

/** The admin token and where it came from. */
export interface AdminToken {
  readonly token: string;
  /** True when this start created `file`. */
  readonly generated: boolean;
  /** `$dataDir/admin-token`, whether or not the token came from it. */
  readonly file: string;
}

/** Refuses a token too short to withstand guessing, naming where it came from so the operator can fix it. */
function checked(token: string, source: string): string {
  if (token.length >= MIN_ADMIN_TOKEN_LENGTH) return token;
  throw new Error(
    `The admin token from ${source} has ${token.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are required ` +
      '(unset it to have one generated into $dataDir/admin-token)',
  );
}

/**
 * The admin token: from settings, else from `$dataDir/admin-token`, else a new one written there (mode 0600).
 * Throws when the configured or stored token is shorter than {@link MIN_ADMIN_TOKEN_LENGTH}.
 */
export function resolveAdminToken(dataDir: string, configured: string | undefined): AdminToken {
  const file = join(dataDir, 'admin-token');
  if (configured)
    return { token: checked(configured, 'the settings (adminToken / SWITCHBOARD_ADMIN_TOKEN)'), generated: false, file };
  if (existsSync(file)) return { token: checked(readFileSync(file, 'utf8').trim(), file), generated: false, file };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  // `wx`: never write through a file or link that appeared meanwhile. The chmod is for file systems that
  // ignore the mode given on create: the token must not be readable by other users.
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, generated: true, file };
}
