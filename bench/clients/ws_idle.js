// An idle Node `ws` client with the same heartbeat as lifeline's default:
// a ping every 30 s, the connection dropped if no pong within 10 s.
// Prints {"event":"connected"}, then stays idle until --seconds pass or
// stdin closes. Run with NODE_PATH=/usr/share/nodejs.
'use strict';
const WebSocket = require('ws');
function opt(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const seconds = Number(opt('--seconds', 130));
const ws = new WebSocket(opt('--url'), { perMessageDeflate: false });
let pongs = 0, pongTimer = null;
ws.on('open', () => {
  console.log(JSON.stringify({ event: 'connected' }));
  const ping = () => {
    ws.ping();
    pongTimer = setTimeout(() => ws.terminate(), 10000);
  };
  ping();
  const iv = setInterval(ping, 30000);
  const end = () => {
    clearInterval(iv); clearTimeout(pongTimer);
    console.log(JSON.stringify({ event: 'done', pongs }));
    ws.close(1000);
    setTimeout(() => process.exit(0), 200).unref();
  };
  setTimeout(end, seconds * 1000);
  process.stdin.on('end', end);
  process.stdin.resume();
});
ws.on('pong', () => { pongs++; clearTimeout(pongTimer); });
ws.on('error', (e) => { console.error('ws_idle:', e.message); process.exit(1); });
