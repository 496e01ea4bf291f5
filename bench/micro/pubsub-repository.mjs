// GD publishes committed per second through the pub/sub repository alone (no server, no sockets), on SQLite and on
// PostgreSQL: P publishers, each keeping K publishes in flight, one message for one subscription per publish.
// Prints one line per dialect and shape, then the PostgreSQL / SQLite ratio.
//   node node_modules/typescript/bin/tsc -p tsconfig.json   (builds dist/)
//   node bench/micro/pubsub-repository.mjs [--messages 20000] [--publishers 8] [--pg postgres://postgres@127.0.0.1:5432/test]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { Store, createPubSubRepository } = await import(new URL('../../dist/src/store/index.js', import.meta.url).href);

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    publishers: { type: 'string', default: '8' },
    pg: { type: 'string', default: process.env.SWITCHBOARD_TEST_DB ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const total = Number(values.messages);
const publishers = Number(values.publishers);
let seq = 0;

function message(topicName) {
  seq += 1;
  const now = Date.now();
  const dataJson = JSON.stringify({ seq, text: 'x'.repeat(64) });
  return {
    msgId: `zpsm${process.pid}${String(seq).padStart(16, '0')}`,
    seq,
    topicName,
    dataJson,
    mimeType: 'application/json',
    priority: 5,
    pubTime: now,
    expirationTime: now + 3_600_000,
    correlId: null,
    inReplyTo: null,
    extClientId: null,
    size: Buffer.byteLength(dataJson),
    hasGd: true,
  };
}

async function onPostgres(statement) {
  const client = new pg.Client({ connectionString: values.pg });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function sqlite() {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-repo-'));
  return { store: await Store.open({ path: join(dir, 'db.sqlite') }), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function postgres() {
  const schema = `bench_repo_${process.pid}_${seq}`;
  const url = new URL(values.pg);
  url.searchParams.set('schema', schema);
  const store = await Store.open({ path: url.toString() });
  return { store, cleanup: () => onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
}

// `inFlight` publishes per publisher at any time; resolves when all `total` are committed.
async function run(open, inFlight) {
  const { store, cleanup } = await open();
  const repo = createPubSubRepository(store);
  await repo.createSubscription({ subKey: 'k.bench', topicName: '/bench', createdAt: new Date().toISOString() });
  let left = total;
  const lane = async () => {
    while (left > 0) {
      left -= 1;
      await repo.publish([message('/bench')], ['k.bench']);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: publishers * inFlight }, lane));
  const seconds = (performance.now() - started) / 1000;
  const stored = (await repo.queueDepths()).get('k.bench');
  await store.close();
  await cleanup();
  if (stored !== total) throw new Error(`stored ${stored} of ${total}`);
  return total / seconds;
}

const results = [];
for (const inFlight of [1, 16]) {
  const shape = `${publishers} publishers x ${inFlight} in flight`;
  const onSqlite = await run(sqlite, inFlight);
  const onPg = await run(postgres, inFlight);
  console.log(
    `${shape}: SQLite ${onSqlite.toFixed(0)}/s, PostgreSQL ${onPg.toFixed(0)}/s, ratio PG/SQLite ${(onPg / onSqlite).toFixed(2)}`,
  );
  results.push({
    case: 'pubsub-repository',
    publishers,
    inFlight,
    messages: total,
    sqlitePerSec: Math.round(onSqlite),
    postgresPerSec: Math.round(onPg),
  });
}
for (const r of results) console.log(JSON.stringify(r));
