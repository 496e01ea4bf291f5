// What one delivery costs the subscriber process to read, for a Zato-format frame (Switchboard) and for NATS MSG
// lines carrying the same data: `node bench/pubsub/parse-cost.mjs`. The fan-out bench's subscriber process is
// the limit of both runs, so this ratio bounds the fan-out ratio. Times are µs per delivered message.
const data = (i) => ({ i, t: 1764140000000.123 });
const zatoMessage = (i) => ({
  data: data(i),
  msg_id: 'zpsm019abc0123456789abcdef',
  topic_name: '/bench/fanout',
  priority: 5,
  pub_time_iso: '2026-11-26T06:52:55.482Z',
  expiration_time_iso: '2026-11-27T06:52:55.482Z',
  mime_type: 'application/json',
  size: 30,
  delivery_count: 1,
  sub_key: 'zpsk.wsx.0123456789abcdef01234567',
});
const meta = { id: 'zpsm0123', timestamp: '2026-11-26T06:52:55.482Z', msg_type: 'zwsx.psrq' };
const BATCH = 28; // the average frame in the fan-out bench with delivery_batch_size 50
const batchFrame = Buffer.from(JSON.stringify({ meta, data: Array.from({ length: BATCH }, (_, i) => zatoMessage(i)) }));
const singleFrame = Buffer.from(JSON.stringify({ meta, data: zatoMessage(1) }));
const natsChunk = Buffer.from(
  Array.from({ length: BATCH }, (_, i) => {
    const payload = JSON.stringify(data(i));
    return `MSG bench.fanout 17 ${payload.length}\r\n${payload}\r\n`;
  }).join(''),
);

let sink = 0;
// The fastest of 5 runs: what the code costs, with as little of the VM's noise as one can get.
function measure(name, iterations, perIteration, fn) {
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, ((performance.now() - t) * 1000) / iterations / perIteration);
  }
  console.log(`${name.padEnd(40)} ${best.toFixed(3)} µs/message`);
  return best;
}

console.log(
  `bytes per message: Zato batch ${Math.round(batchFrame.length / BATCH)}, Zato single ${singleFrame.length}, NATS ${Math.round(natsChunk.length / BATCH)}`,
);
const batched = measure(`Zato frame of ${BATCH} (JSON.parse)`, 50_000, BATCH, () => {
  for (const m of JSON.parse(batchFrame).data) sink += m.data.t;
});
const single = measure('Zato frame of 1 (JSON.parse)', 500_000, 1, () => {
  sink += JSON.parse(singleFrame).data.data.t;
});
const nats = measure(`NATS MSG lines, ${BATCH} per chunk`, 50_000, BATCH, () => {
  let buffer = natsChunk.toString();
  for (;;) {
    const eol = buffer.indexOf('\r\n');
    if (eol < 0) break;
    const line = buffer.slice(0, eol);
    const size = Number(line.slice(line.lastIndexOf(' ') + 1));
    sink += JSON.parse(buffer.slice(eol + 2, eol + 2 + size)).t;
    buffer = buffer.slice(eol + 2 + size + 2);
  }
});
console.log(`NATS / Zato: ${(nats / batched).toFixed(2)} batched, ${(nats / single).toFixed(2)} one per frame${sink ? '' : ' '}`);
