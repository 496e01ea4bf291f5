import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, installed by the test set-up (scripts/run-tests.mjs); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why browser tests cannot run here, or undefined when they can. Under CI a missing browser is a failure,
 * so this returns undefined there and the launch fails loudly.
 */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return undefined;
  return `${CHROMIUM} is missing (apt-get install chromium)`;
}

/** Headless Chromium as this machine allows it: root needs --no-sandbox; the network beyond loopback is closed. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Chromium with one page logged in to the web admin at `adminUrl` (the dashboard shown), as the browser tests start. */
export async function loggedInPage(
  adminUrl: string,
  token: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(10_000);
  await page.goto(adminUrl);
  await page.fill('#login-token', token);
  await page.click('button[type=submit]');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  return { browser, page };
}
