// The Node `ws` contender for the fan-out scenario: the same store logic as
// lifeline-server, written for the benchmark. /ws?store=S&user=U joins
// store S (others get {"type":"user_joined",...}); {"type":"broadcast",
// "data":X} goes to the store's other members as {"type":"broadcast",
// "store":S,"from":U,"data":X}; {"type":"echo","data":X} answers
// {"type":"echo","data":X}; text that is not JSON is echoed unchanged; a
// ping every --ping-interval-ms (default 30000) and a connection with no
// pong by the next one is dropped. Prints {"event":"listening","port":N}.
// Run with NODE_PATH=/usr/share/nodejs.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

function opt(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const port = Number(opt('--port', 0));
const pingInterval = Number(opt('--ping-interval-ms', 30000));
const stores = new Map(); // name -> Set of sockets

const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false,
                                  maxPayload: 1 << 20 });

function toOthers(set, except, text) {
  for (const c of set) if (c !== except && c.readyState === 1) c.send(text);
}

wss.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const store = q.get('store'), user = q.get('user');
  if (!store || !user) { ws.close(1008, 'store and user required'); return; }
  let set = stores.get(store);
  if (!set) { set = new Set(); stores.set(store, set); }
  set.add(ws);
  ws.alive = true;
  ws.on('pong', () => { ws.alive = true; });
  toOthers(set, ws, JSON.stringify({ type: 'user_joined', store, user }));
  ws.on('message', (data, isBinary) => {
    if (isBinary) { ws.send(data, { binary: true }); return; }
    const text = data.toString();
    let msg;
    try { msg = JSON.parse(text); } catch (e) { ws.send(text); return; }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      ws.send(JSON.stringify({ type: 'error', error: 'a JSON message must be an object' }));
    } else if (msg.type === 'echo') {
      ws.send(JSON.stringify({ type: 'echo', data: msg.data === undefined ? null : msg.data }));
    } else if (msg.type === 'broadcast') {
      toOthers(set, ws, JSON.stringify({ type: 'broadcast', store, from: user,
                                         data: msg.data === undefined ? null : msg.data }));
    } else {
      ws.send(JSON.stringify({ type: 'error', error: 'unknown type' }));
    }
  });
  ws.on('close', () => {
    set.delete(ws);
    if (set.size === 0) stores.delete(store);
    else toOthers(set, ws, JSON.stringify({ type: 'user_left', store, user }));
  });
});

const beat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.alive) { ws.terminate(); continue; }
    ws.alive = false;
    ws.ping();
  }
}, pingInterval);

server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});
const stop = () => { clearInterval(beat); for (const ws of wss.clients) ws.terminate();
                     server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
