// Tools the suite drives that come from Debian's packages (never downloaded): Chromium for the browser tests,
// HAProxy for the load-balancer example of docs/cluster.md. Installed with apt-get when missing and we may (root with
// apt-get). Under CI=true a tool that is still missing fails the run; elsewhere the tests that need it say why they
// were skipped.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CHROMIUM = '/usr/bin/chromium';
export const HAPROXY = '/usr/sbin/haproxy';

/** Makes sure `binary` exists, installing Debian package `pkg` if needed; `what` names the tests that need it. */
export function ensureDebianPackage(binary, pkg, what) {
  if (existsSync(binary)) return true;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (canInstall) {
    console.log(`[setup] installing Debian ${pkg} for ${what} (apt-get)…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env });
    } catch (err) {
      console.error(`[setup] apt-get install ${pkg} failed: ${err.message}`);
    }
  }
  if (existsSync(binary)) return true;
  const why = `${binary} is missing${canInstall ? ` and apt-get could not install ${pkg}` : ` (run: apt-get install ${pkg})`}`;
  if (process.env.CI === 'true') {
    console.error(`[setup] ${why}: ${what} cannot run, and under CI that is a failure`);
    process.exit(1);
  }
  console.warn(`[setup] ${why}: ${what} will be skipped`);
  return false;
}

/** Debian's Chromium, for the browser tests. */
export function ensureChromium() {
  return ensureDebianPackage(CHROMIUM, 'chromium', 'the browser tests');
}
