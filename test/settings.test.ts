// The settings loader: switchboard.config.json, the environment and overrides, and what each refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envName, loadSettings, SettingsSchema } from '../src/server/settings.js';

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
  assert.throws(
    () => loadSettings({}, { SWITCHBOARD_ADMIN_PORT: '70000' }, cwd),
    /adminPort must be a whole number from 0 to 65535/,
  );
  assert.throws(
    () => loadSettings({}, { SWITCHBOARD_MEMORY_GUARD_FRACTION: '1.5' }, cwd),
    /memoryGuardFraction must be a number from 0 to 1/,
  );
  assert.throws(
    () => loadSettings({}, { SWITCHBOARD_CHANNEL_HEADERS_TIMEOUT_MS: '10' }, cwd),
    /channelHeadersTimeoutMs must be a whole number from 100/,
  );
  assert.equal(loadSettings({}, { SWITCHBOARD_MEMORY_GUARD_FRACTION: '0.5' }, cwd).memoryGuardFraction, 0.5);
});

test('every setting is one schema key with its default, and its environment variable is SWITCHBOARD_ + the key in upper snake case', () => {
  const defaults = loadSettings({}, {}, tmpdir());
  for (const [key, schema] of Object.entries(SettingsSchema.properties)) {
    if ('default' in schema && key !== 'dataDir' && key !== 'servicesDir') {
      assert.deepEqual(defaults[key as keyof typeof defaults], schema.default, key);
    }
    assert.ok(typeof schema.description === 'string' && schema.description.length > 10, `${key} has no description`);
  }
  assert.equal(envName('adminHeadersTimeoutMs'), 'SWITCHBOARD_ADMIN_HEADERS_TIMEOUT_MS');
  assert.equal(envName('db'), 'SWITCHBOARD_DB');
  assert.equal(defaults.dataDir, join(tmpdir(), 'data'));
  assert.equal(defaults.db, join(tmpdir(), 'data', 'switchboard.db'));
});

test('every setting, and its environment variable, is documented in the README', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  for (const key of Object.keys(SettingsSchema.properties)) {
    assert.ok(readme.includes(`\`${key}\``), `README.md does not list the setting ${key}`);
    assert.ok(readme.includes(`\`${envName(key)}\``), `README.md does not list ${envName(key)}`);
  }
});

test("environment text is converted by the setting's type: numbers, booleans, lists; an empty variable is unset", () => {
  const cwd = tmpdir();
  const s = loadSettings(
    {},
    { SWITCHBOARD_DEMO: 'false', SWITCHBOARD_SERVICE_SCOPES: '1', SWITCHBOARD_ADMIN_PORT: '', SWITCHBOARD_ADMIN_TOKEN: '' },
    cwd,
  );
  assert.deepEqual([s.demo, s.serviceScopes, s.adminPort, s.adminToken], [false, true, 17010, undefined]);
  assert.equal(loadSettings({}, { SWITCHBOARD_DEMO: 'yes' }, cwd).demo, true);
  assert.throws(() => loadSettings({}, { SWITCHBOARD_DEMO: 'maybe' }, cwd), /demo must be true or false \(got maybe\)/);
  assert.throws(
    () => loadSettings({}, { SWITCHBOARD_STALL_WARN_MS: '2.5' }, cwd),
    /stallWarnMs must be a whole number from 0 to 2147483647 \(got 2\.5\)/,
  );
});

test('config file values are checked by the same schema: a string where a number belongs is converted, a wrong type refused', () => {
  withConfigFile(
    JSON.stringify({ adminPort: '18000', adminAllowedHosts: 'a.example, b.example', secretKeyFile: 'keys/k' }),
    (cwd) => {
      const s = loadSettings({}, {}, cwd);
      assert.deepEqual(
        [s.adminPort, s.adminAllowedHosts, s.secretKeyFile],
        [18000, ['a.example', 'b.example'], join(cwd, 'keys', 'k')],
      );
    },
  );
  withConfigFile(JSON.stringify({ adminToken: 12345 }), (cwd) =>
    assert.throws(() => loadSettings({}, {}, cwd), /adminToken must be a string/),
  );
  withConfigFile(JSON.stringify({ adminAllowedHosts: ['a', 5] }), (cwd) =>
    assert.throws(() => loadSettings({}, {}, cwd), /adminAllowedHosts must be a list of host names \(got 5\)/),
  );
  withConfigFile(JSON.stringify({ demo: 'nope' }), (cwd) =>
    assert.throws(() => loadSettings({}, {}, cwd), /demo must be true or false/),
  );
});

test('db takes a SQLite path (resolved against the working directory) or a postgres:// URL (kept as given)', () => {
  const cwd = tmpdir();
  assert.equal(loadSettings({}, { SWITCHBOARD_DB: 'rel/x.db' }, cwd).db, join(cwd, 'rel', 'x.db'));
  const url = 'postgres://sb:pw@db.example:6543/switchboard?schema=one';
  assert.equal(loadSettings({}, { SWITCHBOARD_DB: url }, cwd).db, url);
  assert.equal(loadSettings({ db: 'postgresql://h/d' }, {}, cwd).db, 'postgresql://h/d');
  assert.equal(loadSettings({}, { SWITCHBOARD_PG_POOL_MAX: '4' }, cwd).pgPoolMax, 4);
  assert.equal(loadSettings({}, {}, cwd).pgPoolMax, 10);
  assert.throws(() => loadSettings({}, { SWITCHBOARD_PG_POOL_MAX: '0' }, cwd), /pgPoolMax/);
});
