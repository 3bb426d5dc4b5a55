#!/usr/bin/env node
// The lifeline.v1 reference server: echo, and broadcast, through each
// session's stream. See README.md in this folder.
//
//   node server.js [--port N] [--host ADDR] [--ack-every N] [--ack-delay-ms N]
//                  [--replay-ms N] [--replay-max N] [--app-delay-ms N]
//
// The first stdout line is {"event":"listening","port":N} (--port 0 picks a
// free port); errors go to stderr, one JSON line each.
'use strict';
const { WebSocketServer } = require('ws');
const { lifelineV1 } = require('./lifeline-v1');

// ---- options: --name value or --name=value, integers --------------------
const opts = { port: 8080, host: '127.0.0.1', ackEvery: 32, ackDelayMs: 20,
               replayMs: 120000, replayMax: 10000, appDelayMs: 0 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  let [name, value] = args[i].split(/=(.*)/s);
  const key = name.replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!name.startsWith('--') || !(key in opts)) usage(`unknown option ${name}`);
  if (value === undefined) value = args[++i];
  if (key === 'host') {
    if (!value) usage('--host: expected an address');
    opts.host = value;
  } else if (!/^[0-9]+$/.test(value || '')) {
    usage(`${name}: expected an integer, got '${value}'`);
  } else {
    opts[key] = Number(value);
  }
}
if (opts.port > 65535) usage('--port: expected 0..65535');
if (opts.ackEvery < 1 || opts.replayMax < 1) usage('--ack-every and --replay-max: 1 or more');

function usage(why) {
  process.stderr.write(`server.js: ${why}\n`);
  process.exit(2);
}

// ---- the application -------------------------------------------------------
// Each message comes back to its sender; a JSON text {"type":"broadcast",...}
// also goes to every other session (those offline get it when they resume,
// if it is still in their replay buffer). --app-delay-ms makes each message
// take that long, as a database write would (onMessage may be async).
const v1 = lifelineV1({
  ...opts,
  log: (event) => process.stderr.write(JSON.stringify(event) + '\n'),
  async onMessage(session, payload, isBinary) {
    if (opts.appDelayMs) await new Promise((done) => setTimeout(done, opts.appDelayMs));
    v1.send(session, payload, isBinary);
    if (isBinary || !isBroadcast(payload)) return;
    for (const other of v1.sessions.values()) {
      if (other !== session) v1.send(other, payload, false);
    }
  },
});

function isBroadcast(payload) {
  if (payload[0] !== 0x7b) return false; // '{'
  try {
    return JSON.parse(payload.toString()).type === 'broadcast';
  } catch {
    return false;
  }
}

// ---- the WebSocket server ---------------------------------------------------
const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: 1 << 20,
                                  handleProtocols: v1.handleProtocols });
wss.on('connection', (ws) => {
  if (ws.protocol === v1.PROTOCOL) return v1.accept(ws);
  // A client that did not offer lifeline.v1 gets plain WebSocket, as before.
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ event: 'listening', port: wss.address().port }) + '\n');
});
wss.on('error', (e) => {
  process.stderr.write(JSON.stringify({ event: 'listen_failed', error: e.message }) + '\n');
  process.exit(1);
});

// SIGINT, SIGTERM: close every connection with 1001, then exit 0.
function stop() {
  for (const ws of wss.clients) ws.close(1001, 'server stopping');
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref(); // a peer that never answers the close
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
