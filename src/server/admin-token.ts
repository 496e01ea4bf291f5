import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The admin token: from settings, else from `$dataDir/admin-token`, else a new one written there (mode 0600). */
export function resolveAdminToken(dataDir: string, configured: string | undefined): { token: string; generated: boolean; file: string } {
  const file = join(dataDir, 'admin-token');
  if (configured) return { token: configured, generated: false, file };
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false, file };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true, file };
}
