// Where a server's memory per connection goes, from two V8 heap snapshots: one before the connections were opened
// and one while N of them are held (`npm run bench -- connections --only switchboard --counts 5000 --snapshot PREFIX`
// writes both).
//
//   node bench/connections/heap-summary.mjs BEFORE.heapsnapshot AFTER.heapsnapshot N [--top 40]
//
// Prints, per connection: (1) the objects that are new, by constructor (or by type for strings, closures, arrays,
// code), count and shallow bytes; (2) the same shallow bytes attributed to the nearest *owner* that dominates them
// (a ChannelConnection, ws's WebSocket / Receiver / Sender, a net Socket, a pino logger, a Timeout, …): what would be
// freed with it; (3) the retained size of one instance of each owner class. Dominators are computed over the
// snapshot's strong edges (weak edges skipped), as DevTools does.
import { readFileSync } from 'node:fs';

const [beforePath, afterPath, nArg, ...rest] = process.argv.slice(2);
if (!beforePath || !afterPath || !nArg) {
  console.error('usage: node heap-summary.mjs BEFORE.heapsnapshot AFTER.heapsnapshot N [--top 40]');
  process.exit(2);
}
const N = Number(nArg);
const TOP = Number(rest[rest.indexOf('--top') + 1] || 40);

/** Classes that own what they dominate, in the report's second table. */
const OWNERS = [
  'ZatoConnection',
  'PlainConnection',
  'WebSocket',
  'Receiver',
  'Sender',
  'Socket',
  'TCP',
  'Timeout',
  'Pino',
  'PendingRequests',
  'InFlightCalls',
  'Heartbeat',
  'CorkedWriter',
  'PartialMessage',
  'IncomingMessage',
  'ServerResponse',
  'HTTPParser',
];

function load(path) {
  const snap = JSON.parse(readFileSync(path, 'utf8'));
  const { meta } = snap.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const iType = meta.node_fields.indexOf('type');
  const iName = meta.node_fields.indexOf('name');
  const iSize = meta.node_fields.indexOf('self_size');
  const iEdges = meta.node_fields.indexOf('edge_count');
  const iId = meta.node_fields.indexOf('id');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodes = snap.nodes;
  const edges = snap.edges;
  const count = nodes.length / nf;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + iEdges];
  }
  firstEdge[count] = edges.length / ef;
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const propertyLike = new Set(['context', 'property', 'internal', 'shortcut', 'weak'].map((t) => edgeTypes.indexOf(t)));
  return {
    count,
    type: (i) => nodeTypes[nodes[i * nf + iType]],
    name: (i) => snap.strings[nodes[i * nf + iName]],
    size: (i) => nodes[i * nf + iSize],
    id: (i) => nodes[i * nf + iId],
    firstEdge,
    edgeTo: (e) => edges[e * ef + eTo] / nf,
    edgeSkipped: (e) => edges[e * ef + eType] === weak || edges[e * ef + eType] === shortcut,
    edgeName: (e) =>
      propertyLike.has(edges[e * ef + eType]) ? snap.strings[edges[e * ef + eName]] : `[${edges[e * ef + eName]}]`,
  };
}

/** The label objects are grouped by: the constructor, or the type (closures with their function's name). */
function labelOf(h, i) {
  const type = h.type(i);
  if (type === 'object' || type === 'native') return h.name(i);
  if (type === 'closure') return `closure ${h.name(i) || '(anonymous)'}`;
  if (type === 'hidden' || type === 'object shape') return `(${type}) ${h.name(i)}`.slice(0, 70);
  return `(${type})`;
}

function byLabel(h) {
  const m = new Map();
  for (let i = 0; i < h.count; i++) {
    const l = labelOf(h, i);
    const v = m.get(l) ?? { count: 0, bytes: 0 };
    v.count++;
    v.bytes += h.size(i);
    m.set(l, v);
  }
  return m;
}

/** Immediate dominators (Cooper, Harvey & Kennedy), node 0 the root; strong edges only. */
function dominators(h) {
  const n = h.count;
  const order = new Int32Array(n).fill(-1); // postorder number
  const post = new Uint32Array(n);
  let k = 0;
  const stack = new Uint32Array(n);
  const edgeAt = new Uint32Array(n);
  const seen = new Uint8Array(n);
  let sp = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  edgeAt[0] = h.firstEdge[0];
  while (sp) {
    const v = stack[sp - 1];
    let pushed = false;
    while (edgeAt[v] < h.firstEdge[v + 1]) {
      const e = edgeAt[v]++;
      if (h.edgeSkipped(e)) continue;
      const w = h.edgeTo(e);
      if (seen[w]) continue;
      seen[w] = 1;
      edgeAt[w] = h.firstEdge[w];
      stack[sp++] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      order[v] = k;
      post[k++] = v;
    }
  }
  // Predecessors, reachable nodes only.
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let e = h.firstEdge[v]; e < h.firstEdge[v + 1]; e++) if (!h.edgeSkipped(e)) predCount[h.edgeTo(e) + 1]++;
  }
  for (let i = 0; i < n; i++) predCount[i + 1] += predCount[i];
  const preds = new Uint32Array(predCount[n]);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (!seen[v]) continue;
    for (let e = h.firstEdge[v]; e < h.firstEdge[v + 1]; e++) if (!h.edgeSkipped(e)) preds[fill[h.edgeTo(e)]++] = v;
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let j = k - 2; j >= 0; j--) {
      const v = post[j];
      let d = -1;
      for (let p = predCount[v]; p < predCount[v + 1]; p++) {
        const u = preds[p];
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return { idom, post, k, seen };
}

const before = load(beforePath);
const beforeLabels = byLabel(before);
const after = load(afterPath);
const afterLabels = byLabel(after);
const per = (bytes) => (bytes / N).toFixed(1).padStart(9);

console.log(`\n(1) new objects per connection (${N} connections), by constructor / type: shallow bytes`);
const diff = [...afterLabels].map(([l, v]) => {
  const b = beforeLabels.get(l) ?? { count: 0, bytes: 0 };
  return { label: l, count: (v.count - b.count) / N, bytes: v.bytes - b.bytes };
});
diff.sort((a, b) => b.bytes - a.bytes);
const total = diff.reduce((s, d) => s + d.bytes, 0);
console.log(`total ${per(total)} B per connection`);
for (const d of diff.slice(0, TOP)) console.log(`${per(d.bytes)} B  ${d.count.toFixed(2).padStart(6)} ×  ${d.label}`);

const { idom, post, k } = dominators(after);
const retained = new Float64Array(after.count);
for (let j = 0; j < k; j++) {
  const v = post[j];
  retained[v] += after.size(v);
  if (v !== 0) retained[idom[v]] += retained[v];
}
const ownerOf = new Int32Array(after.count).fill(-1);
const isOwner = (v) => OWNERS.includes(after.name(v)) && ['object', 'native'].includes(after.type(v));
// Preorder over the dominator tree = reverse postorder of the DFS: a node's dominator comes before it.
for (let j = k - 1; j >= 0; j--) {
  const v = post[j];
  if (v === 0) continue;
  const d = idom[v];
  ownerOf[v] = isOwner(d) ? d : ownerOf[d];
}
// Objects are the same across the two snapshots of one process when their ids are (V8 keeps ids for a heap's life).
const oldIds = new Set();
for (let i = 0; i < before.count; i++) oldIds.add(before.id(i));
const byOwner = new Map();
for (let j = 0; j < k; j++) {
  const v = post[j];
  if (oldIds.has(after.id(v))) continue;
  const o = ownerOf[v];
  const key = o === -1 ? '(no owner)' : after.name(o);
  const inner = isOwner(v) ? `${after.name(v)} itself` : labelOf(after, v);
  const g = byOwner.get(key) ?? { bytes: 0, parts: new Map() };
  g.bytes += after.size(v);
  g.parts.set(inner, (g.parts.get(inner) ?? 0) + after.size(v));
  byOwner.set(key, g);
}
console.log(
  `\n(2) objects new since the first snapshot, shallow bytes per connection, by their nearest dominating owner (while ${N} are held)`,
);
for (const [owner, g] of [...byOwner].sort((a, b) => b[1].bytes - a[1].bytes)) {
  console.log(
    `${per(g.bytes)} B  ${owner}${owner === '(no owner)' ? ': dominated by no owner class (shared, or held by the runtime)' : ''}`,
  );
  for (const [part, bytes] of [...g.parts].sort((a, b) => b[1] - a[1]).slice(0, 12))
    if (bytes / N >= 4) console.log(`           ${per(bytes)} B  ${part}`);
}

console.log('\n(3) retained bytes of one instance (mean), per owner class');
const classes = new Map();
for (let v = 0; v < after.count; v++) {
  if (!isOwner(v) || retained[v] === 0) continue;
  const c = classes.get(after.name(v)) ?? { count: 0, retained: 0, shallow: 0 };
  c.count++;
  c.retained += retained[v];
  c.shallow += after.size(v);
  classes.set(after.name(v), c);
}
for (const [name, c] of [...classes].sort((a, b) => b[1].retained - a[1].retained))
  console.log(
    `${name.padEnd(18)} ${String(c.count).padStart(7)} instances, ${(c.retained / c.count).toFixed(0).padStart(6)} B retained, ${(c.shallow / c.count).toFixed(0).padStart(5)} B shallow each`,
  );

// (4) What one instance of each main owner points at, by edge: the fields that make it up.
for (const cls of ['ZatoConnection', 'PlainConnection', 'WebSocket', 'Socket', 'Receiver', 'Pino']) {
  let sample;
  for (let v = after.count - 1; v >= 0; v--)
    if (after.name(v) === cls && after.type(v) === 'object' && !oldIds.has(after.id(v))) {
      sample = v;
      break;
    }
  if (sample === undefined) continue;
  console.log(`\n(4) the edges of one ${cls} (${retained[sample]} B retained), with the retained size of each target`);
  for (let e = after.firstEdge[sample]; e < after.firstEdge[sample + 1]; e++) {
    const w = after.edgeTo(e);
    const name = after.edgeName(e);
    if (name === 'map' || name.startsWith('__proto__')) continue;
    const owned = idom[w] === sample ? 'dominated' : `shared (dominated by ${labelOf(after, idom[w]).slice(0, 40)})`;
    console.log(
      `  ${name.slice(0, 28).padEnd(28)} → ${labelOf(after, w).slice(0, 34).padEnd(34)} ${String(retained[w]).padStart(7)} B  ${owned}`,
    );
    // The listeners of an emitter: one level down.
    if (name === '_events' && idom[w] === sample)
      for (let f = after.firstEdge[w]; f < after.firstEdge[w + 1]; f++) {
        const x = after.edgeTo(f);
        const n = after.edgeName(f);
        if (n === 'map' || n.startsWith('__proto__')) continue;
        console.log(
          `      ${n.slice(0, 24).padEnd(24)} → ${labelOf(after, x).slice(0, 34).padEnd(34)} ${String(retained[x]).padStart(7)} B`,
        );
      }
  }
}

// (5) The synthetic and native nodes that are new (Node's embedder graph: handles, wraps).
const natives = new Map();
for (let v = 0; v < after.count; v++) {
  const t = after.type(v);
  if ((t !== 'synthetic' && t !== 'native') || oldIds.has(after.id(v))) continue;
  const key = `${t} ${after.name(v)}`;
  const c = natives.get(key) ?? { count: 0, bytes: 0 };
  c.count++;
  c.bytes += after.size(v);
  natives.set(key, c);
}
console.log('\n(5) new native / synthetic nodes (sizes as Node reports them), per connection');
for (const [key, c] of [...natives].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15))
  console.log(`${per(c.bytes)} B  ${(c.count / N).toFixed(2).padStart(6)} ×  ${key.slice(0, 80)}`);
