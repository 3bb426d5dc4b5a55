// lifeline.v1, the server side (docs/protocol.md, draft 1), for a Node `ws`
// server. Plain JavaScript, no dependency but `ws` (which the caller brings).
//
//   const v1 = lifelineV1({ onMessage(session, payload, isBinary) { ... } });
//   new WebSocketServer({ port, handleProtocols: v1.handleProtocols })
//     .on('connection', (ws) => ws.protocol === v1.PROTOCOL ? v1.accept(ws) : plain(ws));
//   v1.send(session, payload, isBinary);  // to a session, connected or not
//
// Everything is in memory: a restart forgets every session. In production
// the high-water mark (session.accepted) goes in the app's database,
// committed before the ack (see "Durability"); the replay buffers may stay
// in memory (after a restart, resumes get "n").
'use strict';
const crypto = require('crypto');

const PROTOCOL = 'lifeline.v1';
const MAX = (1n << 64n) - 1n; // numbers are 64-bit: BigInt throughout

// A protocol error: the connection is closed with 1002 and this reason.
class ProtocolError extends Error {}
const fail = (why) => { throw new ProtocolError(why); };

// ---- units ("Frames") ------------------------------------------------------

// An unsigned decimal number: no sign, no leading zero, at most 2^64 - 1.
function num(s, zeroOk = false) {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) fail('bad number');
  if (s.length > 20 || BigInt(s) > MAX) fail('number out of range');
  if (s === '0' && !zeroOk) fail('number 0 where 1 or more is needed');
  return BigInt(s);
}

// One whole WebSocket message (a Buffer) as a unit, or a ProtocolError.
function parse(buf, isBinary) {
  if (buf.length === 0) fail('empty message');
  if (buf[0] >= 0x31 && buf[0] <= 0x39) { // '1'-'9': data, "seq SP payload"
    const sp = buf.indexOf(0x20);
    if (sp < 0) fail('data without a space after its number');
    return { kind: 'data', seq: num(buf.toString('latin1', 0, sp)),
             payload: buf.subarray(sp + 1), isBinary };
  }
  if (isBinary) fail('a control unit in a binary message');
  const text = buf.toString('latin1'); // the grammar is ASCII: other bytes fail below
  if (text[0] === 'a') return { kind: 'ack', seq: num(text.slice(1)) };
  if (text[0] === 's') return { kind: 'skip', seq: num(text.slice(1)) };
  if (text[0] === 'h') { // "h session epoch received held"
    const f = text.split(' ');
    if (f.length !== 5 || f[0] !== 'h') fail('bad hello');
    if (!/^[0-9a-f]{32}$/.test(f[1])) fail('bad session id');
    if (!/^[0-9a-f]{16}$/.test(f[2])) fail('bad epoch');
    return { kind: 'hello', session: f[1], epoch: f[2], received: num(f[3], true),
             held: num(f[4]) };
  }
  if (text[0] === 'w') fail('a welcome from a client');
  return fail('not a lifeline.v1 unit');
}

// ---- sessions and streams ------------------------------------------------

function newEpoch() { // 16 hex digits, never all zero
  for (;;) {
    const e = crypto.randomBytes(8).toString('hex');
    if (e !== '0000000000000000') return e;
  }
}

function lifelineV1({ onMessage, ackEvery = 32, ackDelayMs = 20, replayMs = 120000,
                      replayMax = 10000, log = () => {} }) {
  const sessions = new Map(); // session id (32 hex) -> session

  function session(id) {
    let s = sessions.get(id);
    if (!s) {
      s = { id,
            accepted: 0n,       // client to server: the high-water mark
            epoch: newEpoch(),  // server to client: the stream's epoch,
            last: 0n,           //   the highest number given in it,
            buffer: [],         //   {seq, unit, isBinary, at} not yet acknowledged, oldest first
            conn: null,         // the connection carrying the session now, if any
            inflight: null };   // a promise while onMessage handles one of its messages
      sessions.set(id, s);
    }
    return s;
  }

  // Drop what is older than replayMs, and past replayMax messages.
  function trim(s, now = Date.now()) {
    let n = 0;
    while (n < s.buffer.length &&
           (s.buffer.length - n > replayMax || now - s.buffer[n].at > replayMs)) n++;
    s.buffer.splice(0, n);
  }

  // The application's send: number the message in the session's stream,
  // keep it for a resume, and send it now if the session is connected.
  function send(s, payload, isBinary = typeof payload !== 'string') {
    s.last += 1n;
    const unit = Buffer.concat([Buffer.from(`${s.last} `), Buffer.from(payload)]);
    s.buffer.push({ seq: s.last, unit, isBinary, at: Date.now() });
    trim(s);
    if (s.conn) s.conn.ws.send(unit, { binary: isBinary });
  }

  // ---- one connection ----------------------------------------------------

  // Units are handled one at a time per connection, in order: onMessage may
  // be async (a database write), and the next unit waits for it.
  function accept(ws) {
    const conn = { ws, session: null, unacked: 0, timer: null, dead: false,
                   queue: Promise.resolve() };
    ws.on('message', (buf, isBinary) => {
      conn.queue = conn.queue.then(() => handle(conn, buf, isBinary));
    });
    ws.on('close', () => detach(conn));
  }

  async function handle(conn, buf, isBinary) {
    if (conn.dead) return; // nothing received after an error is delivered
    try {
      await receive(conn, parse(buf, isBinary));
    } catch (e) { // a protocol error: 1002; the app's own (onMessage threw): 1011
      const proto = e instanceof ProtocolError;
      log({ event: proto ? 'protocol_error' : 'app_error', error: e.message,
            session: conn.session && conn.session.id });
      ackNow(conn); // what was accepted before the error is acknowledged
      detach(conn);
      conn.ws.close(proto ? 1002 : 1011, proto ? `lifeline.v1: ${e.message}` : 'server error');
    }
  }

  function detach(conn) {
    conn.dead = true;
    clearTimeout(conn.timer);
    if (conn.session && conn.session.conn === conn) conn.session.conn = null;
  }

  async function receive(conn, u) {
    const s = conn.session;
    if (u.kind === 'hello') return s ? fail('a second hello') : hello(conn, u);
    if (!s) fail(`${u.kind} before hello`);
    if (u.kind === 'ack') { // the client has every message up to u.seq
      if (u.seq > s.last) fail(`ack of ${u.seq}, above the last sent (${s.last})`);
      while (s.buffer.length && s.buffer[0].seq <= u.seq) s.buffer.shift();
      return;
    }
    if (u.kind === 'skip') { // the client dropped its messages up to u.seq unsent
      if (u.seq <= s.accepted) return; // says nothing new
      s.accepted = u.seq; // received, nothing delivered (production: commit the mark)
    } else {
      await data(s, u);
    }
    conn.unacked++;
    if (conn.unacked >= ackEvery) ackNow(conn);
    else if (!conn.timer) conn.timer = setTimeout(ackNow, ackDelayMs, conn);
  }

  // Data ("Sequence numbers"): a duplicate is dropped, the next one
  // delivered, a gap is an error. Both are acknowledged, batched.
  async function data(s, u) {
    const next = s.accepted + 1n;
    if (u.seq > next) fail(`gap: expected ${next}, got ${u.seq}`);
    if (u.seq === next) {
      let done;
      s.inflight = new Promise((resolve) => { done = resolve; }); // see hello()
      try {
        await onMessage(s, u.payload, u.isBinary);
        s.accepted = u.seq; // production: commit it with the message's effect, here
      } finally {
        s.inflight = null;
        done();
      }
    }
  }

  function ackNow(conn) {
    clearTimeout(conn.timer);
    conn.timer = null;
    if (conn.unacked > 0 && !conn.dead) conn.ws.send(`a${conn.session.accepted}`);
    conn.unacked = 0;
  }

  // "Resume", server side.
  async function hello(conn, h) {
    const s = session(h.session);
    // One connection carries a session: the newest. End the older one, and
    // let a message it is handling finish before the mark is read.
    while (s.conn || s.inflight) {
      if (s.conn) {
        const old = s.conn;
        detach(old);
        old.ws.close(1008, 'lifeline.v1: session resumed elsewhere'); // as lifeline-server
      }
      await s.inflight;
    }
    if (conn.dead) return; // closed while it waited
    // 1. Client to server: messages below `held` were acknowledged by a
    //    server, so they count as accepted.
    if (s.accepted < h.held - 1n) s.accepted = h.held - 1n;
    // 2. Server to client: "r" when the client's epoch is ours and the
    //    buffer still holds every message after its `received`.
    trim(s);
    const lowest = s.buffer.length ? s.buffer[0].seq : s.last + 1n;
    const recovered = h.epoch === s.epoch && h.received <= s.last && lowest <= h.received + 1n;
    conn.session = s;
    s.conn = conn;
    const first = recovered ? h.received + 1n : lowest;
    conn.ws.send(`w ${s.epoch} ${s.accepted} ${recovered ? 'r' : 'n'} ${first} ${s.last}`);
    // `received` acknowledges the stream; after an "n", nothing up to `last`
    // is for the client. What stays in the buffer is the replay.
    const done = recovered ? h.received : s.last;
    while (s.buffer.length && s.buffer[0].seq <= done) s.buffer.shift();
    for (const m of s.buffer) conn.ws.send(m.unit, { binary: m.isBinary });
  }

  // Select lifeline.v1 when offered, and nothing else (ws's handleProtocols).
  const handleProtocols = (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false);

  return { PROTOCOL, handleProtocols, accept, send, sessions };
}

module.exports = { lifelineV1, parse, ProtocolError, PROTOCOL };
