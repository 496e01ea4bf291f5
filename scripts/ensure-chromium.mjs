// The browser tests drive Debian's Chromium (/usr/bin/chromium) with playwright-core; never a downloaded
// browser. This installs it from Debian's packages when missing and we may (root with apt-get). Under CI=true a
// browser that still is missing fails the run; elsewhere the browser tests say why they were skipped.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (canInstall) {
    console.log('[setup] installing Debian chromium for the browser tests (apt-get)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
    } catch (err) {
      console.error(`[setup] apt-get install chromium failed: ${err.message}`);
    }
  }
  if (existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} is missing${canInstall ? ' and apt-get could not install it' : ' (run: apt-get install chromium)'}`;
  if (process.env.CI === 'true') {
    console.error(`[setup] ${why}: the browser tests cannot run, and under CI that is a failure`);
    process.exit(1);
  }
  console.warn(`[setup] ${why}: the browser tests will be skipped`);
  return false;
}
