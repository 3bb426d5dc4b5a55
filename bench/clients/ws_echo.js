// The echo load with the Node `ws` package (Debian's node-ws): sequential
// round trips (--window 1) or a pipelined window, for --seconds after
// --warmup. Same options and JSON output as lifeline_echo.
// Run with NODE_PATH=/usr/share/nodejs.
'use strict';
const WebSocket = require('ws');
const fs = require('fs');

function opt(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const url = opt('--url');
const size = Number(opt('--size', 64));
const windowN = Number(opt('--window', 1));
const seconds = Number(opt('--seconds', 3));
const warmup = Number(opt('--warmup', 0.5));
const max = Number(opt('--max', 1e9));
const samplesPath = opt('--samples');
const payload = 'm' + 'x'.repeat(size - 1); // not JSON: echoed unchanged

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const cpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 << 20 });
let firstSend = 0, t0 = 0, lastSend = 0, cpu0 = 0, recv = 0, n0 = 0, done = false;
const rtt = [];
const guard = setTimeout(() => { console.error('ws_echo: run did not complete'); process.exit(1); },
                         (warmup + seconds + 20) * 1000);

function send() { lastSend = nowUs(); ws.send(payload); }

ws.on('open', () => {
  firstSend = nowUs();
  for (let k = 0; k < windowN; k++) send();
});
ws.on('message', (data) => {
  if (done || data.length !== size) return;
  const now = nowUs();
  recv++;
  if (windowN === 1 && t0) rtt.push(now - lastSend);
  if (!t0 && now - firstSend >= warmup * 1e6) { t0 = now; cpu0 = cpuS(); n0 = recv; }
  if (t0 && (now - t0 >= seconds * 1e6 || recv - n0 >= max)) {
    done = true;
    const cpu = cpuS() - cpu0;
    if (samplesPath) fs.writeFileSync(samplesPath, rtt.join('\n') + '\n');
    console.log(JSON.stringify({ msgs: recv - n0, seconds: (now - t0) / 1e6, cpu_s: cpu,
                                 rtt_samples: rtt.length }));
    clearTimeout(guard);
    ws.close(1000);
    return;
  }
  send();
});
ws.on('error', (e) => { console.error('ws_echo:', e.message); process.exit(1); });
ws.on('close', () => { if (!done) { console.error('ws_echo: closed early'); process.exit(1); } });
