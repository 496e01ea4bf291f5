#!/usr/bin/env node
// A WSX (Zato-protocol) client for the demo channel: create a session, invoke zato.helpers.echo through
// the gateway, print the reply. Run it while `npm start` is running:  node examples/demo-client.mjs
import WebSocket from 'ws';

const url = process.argv[2] ?? 'ws://127.0.0.1:17011/demo';
const ws = new WebSocket(url);
const now = () => new Date().toISOString();

ws.on('open', () => {
  ws.send(JSON.stringify({ meta: { action: 'create-session', id: 'c1', timestamp: now(), client_name: 'demo-client' } }));
});

ws.on('message', (raw) => {
  const frame = JSON.parse(raw.toString());
  console.log('<-', JSON.stringify(frame));
  if (frame.meta.msg_type === 'zwsx.rspa') {
    const request = { service: 'zato.helpers.echo', request: { elem1: 'value1', elem2: 'value2' } };
    ws.send(JSON.stringify({ meta: { action: 'invoke-service', id: 'i1', timestamp: now(), token: frame.data.token }, data: request }));
  } else if (frame.meta.in_reply_to === 'i1') {
    console.log('Response is', JSON.stringify(frame.data));
    ws.close();
  }
});

ws.on('error', (err) => {
  console.error(`Cannot reach ${url}: ${err.message}. Is the server running (npm start)?`);
  process.exitCode = 1;
});
