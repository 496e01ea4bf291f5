import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

async function scrape(): Promise<string> {
  const res = await fetch(`${server.adminUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return res.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics: connections, messages, service calls and durations, errors, pub/sub depth, outgoing state', async () => {
  const url = await createChannel(server, { name: 'm', service: 'helpers.web-sockets-gateway' });
  const client = await TestClient.connect(url);
  await client.createSession();
  await client.gateway('zato.helpers.echo', { a: 1 });
  await client.gateway('zato.helpers.echo', { a: 2 });
  await client.gateway('no.such.service');
  client.send('{not json');
  await client.next();
  await server.api('POST', '/api/pubsub/topics', { name: '/m' });
  await server.api('POST', `/api/pubsub/topics/${encodeURIComponent('/m')}/publish`, { data: 1 });
  await server.api('POST', '/api/outgoing/wsx', { name: 'o', address: url, isZato: true });
  await waitFor(() => server.outgoingManager.state('o').connected === 1, 3000, 'outgoing connected');

  const text = await scrape();
  assert.equal(value(text, 'switchboard_wsx_connections{channel="m"}'), 2, 'our client and the outgoing connection');
  assert.ok(value(text, 'switchboard_wsx_messages_in_total{channel="m"}')! >= 4);
  assert.ok(value(text, 'switchboard_wsx_messages_out_total{channel="m"}')! >= 4);
  assert.equal(value(text, 'switchboard_service_invocations_total{service="zato.helpers.echo",outcome="ok"}'), 2);
  assert.ok(value(text, 'switchboard_service_duration_seconds_count{service="zato.helpers.echo"}')! >= 2);
  assert.match(text, /switchboard_service_duration_seconds_bucket\{le="0.001",service="zato.helpers.echo"\} \d+/);
  assert.equal(value(text, 'switchboard_errors_total{code="service_not_allowed"}'), 1);
  assert.equal(value(text, 'switchboard_errors_total{code="invalid_json"}'), 1);
  assert.equal(value(text, 'switchboard_pubsub_depth{topic="/m",kind="gd"}'), 1);
  assert.equal(value(text, 'switchboard_outgoing_connected{connection="o"}'), 1);
  assert.equal(value(text, 'switchboard_outgoing_reconnects_total{connection="o"}'), 0);
  assert.match(text, /switchboard_process_resident_memory_bytes \d+/);
  client.close();
});
