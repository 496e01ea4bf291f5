// The settings loader: switchboard.config.json, the environment and overrides, and what each refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../src/server/settings.js';

function withConfigFile(text: string, check: (cwd: string) => void): void {
  const cwd = mkdtempSync(join(tmpdir(), 'switchboard-settings-'));
  try {
    writeFileSync(join(cwd, 'switchboard.config.json'), text);
    check(cwd);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

test('a config file is read; the environment wins over it, overrides over both', () => {
  withConfigFile(JSON.stringify({ adminPort: 18000, demoPort: 18001, stallWarnMs: 500 }), (cwd) => {
    const s = loadSettings({ demoPort: 18002 }, { SWITCHBOARD_ADMIN_PORT: '18003' }, cwd);
    assert.deepEqual([s.adminPort, s.demoPort, s.stallWarnMs], [18003, 18002, 500]);
  });
});

test('a misspelt or unknown key in the config file is an error naming it', () => {
  withConfigFile(JSON.stringify({ adminPort: 18000, adminPrt: 18001, stallWarn: 5 }), (cwd) => {
    assert.throws(() => loadSettings({}, {}, cwd), /unknown setting "adminPrt", "stallWarn"/);
  });
});

test('a config file that is not a JSON object, or not JSON, is refused', () => {
  for (const text of ['[]', '"adminPort"', 'null', '42']) {
    withConfigFile(text, (cwd) => assert.throws(() => loadSettings({}, {}, cwd), /must hold a JSON object of settings/));
  }
  withConfigFile('{"adminPort": ', (cwd) => assert.throws(() => loadSettings({}, {}, cwd), /is not valid JSON/));
});

test('numeric settings out of range or of the wrong kind are refused with the setting named', () => {
  const cwd = tmpdir();
  assert.throws(() => loadSettings({}, { SWITCHBOARD_ADMIN_PORT: '70000' }, cwd), /adminPort must be a whole number from 0 to 65535/);
  assert.throws(() => loadSettings({}, { SWITCHBOARD_MEMORY_GUARD_FRACTION: '1.5' }, cwd), /memoryGuardFraction must be a number from 0 to 1/);
  assert.throws(() => loadSettings({}, { SWITCHBOARD_CHANNEL_HEADERS_TIMEOUT_MS: '10' }, cwd), /channelHeadersTimeoutMs must be a whole number from 100/);
  assert.equal(loadSettings({}, { SWITCHBOARD_MEMORY_GUARD_FRACTION: '0.5' }, cwd).memoryGuardFraction, 0.5);
});
