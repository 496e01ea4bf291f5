// N WSX clients in one process that answer every server request (`zwsx.rqc`) at once with a `client-response`
// echoing its data, as a Zato client's callback would. Each creates a session as `<prefix>-<i>`; prints "ready" once
// all have one, and exits on SIGTERM.
//   node answerers.mjs <url> <count> <prefix>
import WebSocket from 'ws';

const [url, countArg, prefix] = process.argv.slice(2);
const count = Number(countArg);

function answerer(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let token;
    let seq = 0;
    ws.once('error', reject);
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw);
      if (frame.meta.msg_type === 'zwsx.rqc') {
        ws.send(
          JSON.stringify({
            meta: { action: 'client-response', id: `r${++seq}`, timestamp: '', token, in_reply_to: frame.meta.id },
            data: { response: frame.data },
          }),
        );
      } else if (frame.meta.in_reply_to === 'c') {
        token = frame.data.token;
        resolve(ws);
      }
    });
    ws.once('open', () =>
      ws.send(JSON.stringify({ meta: { action: 'create-session', id: 'c', timestamp: '', client_id: `${prefix}-${i}` } })),
    );
  });
}

const sockets = [];
for (let i = 0; i < count; i += 50) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => answerer(i + j)))));
}
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
