// The baseline: a JSON echo server as people write it with `ws` — parse, serialize, one send per message.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ port, host: '127.0.0.1' });
wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.on('message', (data) => ws.send(JSON.stringify(JSON.parse(data))));
});
wss.on('listening', () => process.stdout.write('ready\n'));
