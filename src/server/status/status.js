// lifeline-server's status page: polls the server's own HTTP API once a
// second (fetch, same origin) and redraws. No framework, nothing fetched
// from elsewhere; every text goes in through textContent.
//
//   GET /api/v1/websockets/stats     connections per store, fault mode (public)
//   GET /api/v1/websockets/history   the server's samples of the connections,
//                                    read once to draw the chart's past (public)
//   GET /api/v1/admin/status         the status monitor, its history, the
//                                    fault's details, recent alert deliveries
//                                    (admin: loopback, or the admin token)
'use strict';

(function () {
  const POLL_MS = 1000;
  const WINDOW_MS = 10 * 60 * 1000; // the chart's width
  const TOKEN_KEY = 'lifeline-admin-token';

  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let admin = 'unknown'; // 'ok', 'token' (401: a token is needed), 'denied' (403)
  let series = []; // [browser ms, open connections]
  let seeded = false;

  function text(el, value) {
    if (el.textContent !== value) el.textContent = value;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function duration(ms) {
    if (ms < 1000) return ms + ' ms';
    const s = ms / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + Math.round(s % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  // GET path as JSON: {status, body}; body is null when it is not JSON.
  async function get(path, withToken) {
    const headers = {};
    if (withToken && token) headers.Authorization = 'Bearer ' + token;
    const resp = await fetch(path, { headers, cache: 'no-store' });
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    return { status: resp.status, body };
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c.cls) td.className = c.cls;
      if (c.node) td.appendChild(c.node);
      else td.textContent = String(c.text);
      tr.appendChild(td);
    }
    return tr;
  }

  // -- public figures -------------------------------------------------------
  function renderStats(st) {
    text($('active'), String(st.active_connections));
    text($('total'), String(st.total_connections));
    text($('uptime'), duration(st.uptime_ms));
    const stores = Object.entries(st.stores || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    text($('store-count'), String(stores.length));
    const max = stores.length ? stores[0][1] : 1;
    const tbody = $('stores').tBodies[0];
    const rows = stores.map(([name, n]) => {
      const bar = document.createElement('span');
      bar.style.width = Math.max(2, Math.round((100 * n) / max)) + '%';
      const tr = row([{ text: name }, { text: n, cls: 'num count' }, { node: bar, cls: 'bar' }]);
      tr.dataset.store = name;
      return tr;
    });
    tbody.replaceChildren(...rows);
    $('no-stores').hidden = stores.length > 0;
    if (admin !== 'ok') renderFault({ mode: st.fault });
    series.push([Date.now(), st.active_connections]);
    drawChart();
  }

  function renderFault(f) {
    const el = $('fault-mode');
    text(el, f.mode);
    el.className = 'pill ' + (f.mode === 'none' ? 'ok' : 'bad');
    el.dataset.mode = f.mode;
    let detail = '';
    if (f.mode === 'none') detail = 'normal service';
    else if (typeof f.remaining_ms === 'number') detail = 'ends in ' + duration(Math.max(0, f.remaining_ms));
    else if (f.remaining_ms === null) detail = 'until the next change';
    if (typeof f.delay_ms === 'number') detail += ' (delay ' + f.delay_ms + ' ms)';
    text($('fault-detail'), detail);
  }

  // -- the chart --------------------------------------------------------------
  async function seedChart() {
    const r = await get('/api/v1/websockets/history', false);
    if (r.status !== 200 || !r.body) return;
    const offset = Date.now() - r.body.now_ms; // the server's clock to this one
    const past = r.body.samples.map(([at, n]) => [at + offset, n]);
    const first = series.length ? series[0][0] : Infinity;
    series = past.filter((p) => p[0] < first).concat(series);
    seeded = true;
  }

  function drawChart() {
    const canvas = $('chart');
    const now = Date.now();
    series = series.filter((p) => p[0] >= now - WINDOW_MS);
    while (series.length > 2 * WINDOW_MS / POLL_MS) series.shift(); // bounded, whatever the clock does
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 900;
    const h = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const left = 34, right = 8, top = 8, bottom = 20;
    const pw = w - left - right, ph = h - top - bottom;
    let max = 1;
    for (const p of series) max = Math.max(max, p[1]);
    max = max <= 4 ? 4 : Math.ceil((max * 1.1) / 2) * 2; // even: the middle line is whole
    // the chart spans what it has, in whole minutes: 1 to 10
    const span = series.length ? now - series[0][0] : 0;
    const width = Math.min(WINDOW_MS, Math.max(60000, Math.ceil(span / 60000) * 60000));
    const x = (t) => left + ((t - (now - width)) / width) * pw;
    const y = (n) => top + ph - (n / max) * ph;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#656d76';
    g.strokeStyle = '#d0d7de';
    g.lineWidth = 1;
    g.textAlign = 'right';
    for (const v of [0, Math.round(max / 2), max]) {
      g.beginPath();
      g.moveTo(left, y(v) + 0.5);
      g.lineTo(w - right, y(v) + 0.5);
      g.stroke();
      g.fillText(String(v), left - 4, y(v) + 4);
    }
    g.textAlign = 'center';
    const step = width <= 60000 ? 15000 : width <= 180000 ? 30000 : width <= 300000 ? 60000 : 120000;
    for (let t = width; t >= 0; t -= step) {
      const label = t === 0 ? 'now' : t % 60000 ? '-' + t / 1000 + ' s' : '-' + t / 60000 + ' min';
      g.textAlign = t === width ? 'left' : t === 0 ? 'right' : 'center';
      g.fillText(label, x(now - t), h - 5);
    }
    if (series.length) {
      g.beginPath();
      series.forEach(([t, n], i) => {
        if (i === 0) {
          g.moveTo(x(t), y(n));
        } else {
          g.lineTo(x(t), y(series[i - 1][1])); // steps: a count holds until the next sample
          g.lineTo(x(t), y(n));
        }
      });
      g.lineTo(x(now), y(series[series.length - 1][1]));
      g.strokeStyle = '#1f6feb';
      g.lineWidth = 2;
      g.stroke();
      g.lineTo(x(now), y(0));
      g.lineTo(x(series[0][0]), y(0));
      g.closePath();
      g.fillStyle = 'rgba(31, 111, 235, 0.12)';
      g.fill();
    }
    canvas.dataset.points = String(series.length);
    canvas.dataset.last = series.length ? String(series[series.length - 1][1]) : '';
    canvas.dataset.max = String(series.reduce((m, p) => Math.max(m, p[1]), 0));
  }

  // -- admin figures ------------------------------------------------------------
  const EVENT_TEXT = {
    server_starting: () => 'server started',
    no_clients: (e) => 'no clients connected (none for ' + duration(e.duration_ms) + ')',
    clients_back: (e) => 'clients back after ' + duration(e.duration_ms) + ' without clients',
  };

  function renderMonitor(m, nowMs) {
    const el = $('monitor');
    el.dataset.state = m.state;
    const since = m.since ? Date.parse(m.since) : 0;
    if (m.state === 'clients') {
      text(el, 'clients connected');
      text($('monitor-text'), m.active_connections + ' open connection' +
        (m.active_connections === 1 ? '' : 's') + '.');
    } else if (m.state === 'empty') {
      text(el, 'no clients');
      text($('monitor-text'), 'No clients since ' + clock(since) + '; "no clients connected" at ' +
        clock(Date.parse(m.due)) + ' if none connects (after ' + duration(m.down_after_ms) + ').');
    } else {
      text(el, 'no clients connected');
      text($('monitor-text'), 'No clients since ' + clock(since) + ' (' +
        duration(Math.max(0, nowMs - since)) + ').');
    }
  }

  function renderHistory(events) {
    const items = events.map((e) => {
      const li = document.createElement('li');
      li.dataset.event = e.event;
      const say = EVENT_TEXT[e.event];
      li.textContent = clock(Date.parse(e.at)) + ' ' + (say ? say(e) : e.event);
      return li;
    });
    $('history').replaceChildren(...items);
  }

  function renderAlerts(a) {
    const on = Object.entries(a.channels || {}).map(([c, v]) =>
      c + ' ' + (v ? 'on' : 'off') + (a.sent ? ' (' + a.sent[c] + ' sent, ' + a.failed[c] + ' failed)' : ''));
    text($('alert-channels'), on.length ? 'Channels: ' + on.join(', ') + '.' : '');
    const rows = a.recent.map((d) => {
      const tr = row([
        { text: clock(Date.parse(d.at)) }, { text: d.channel }, { text: d.kind },
        { text: d.ok ? 'sent' : 'failed' + (d.detail ? ': ' + d.detail : '') },
        { text: d.status || '–', cls: 'num' }, { text: d.attempts, cls: 'num' },
      ]);
      tr.dataset.kind = d.kind;
      tr.dataset.channel = d.channel;
      tr.dataset.ok = String(d.ok);
      return tr;
    });
    $('alerts').tBodies[0].replaceChildren(...rows);
    $('no-alerts').hidden = rows.length > 0;
  }

  function setAdmin(state, note) {
    admin = state;
    for (const el of document.querySelectorAll('.admin')) el.dataset.admin = state;
    $('admin-card').hidden = state === 'ok' || state === 'unknown';
    if (note !== undefined) text($('admin-note'), note);
  }

  async function pollAdmin() {
    const r = await get('/api/v1/admin/status', true);
    if (r.status === 200 && r.body) {
      setAdmin('ok');
      renderMonitor(r.body.monitor, r.body.now_ms);
      renderHistory(r.body.history);
      renderFault(r.body.fault);
      renderAlerts(r.body.alerts);
    } else if (r.status === 401) {
      setAdmin('token', 'The status monitor and the alert deliveries are for admins: ' +
        'enter the admin token (--admin-token).');
    } else if (r.status === 403) {
      setAdmin('denied', token
        ? 'The server refused this admin token.'
        : 'Admin only: open this page on the server\'s host, or start the server with ' +
          '--admin-token and enter it here.');
    }
  }

  // -- the loop -----------------------------------------------------------------
  function setLive(state, note) {
    document.body.dataset.state = state;
    text($('live'), note);
  }

  async function poll() {
    try {
      const r = await get('/api/v1/websockets/stats', false);
      if (r.status !== 200 || !r.body) throw new Error('stats: HTTP ' + r.status);
      if (!seeded) await seedChart();
      renderStats(r.body);
      // 401 and 403 are not asked again until a token is entered
      if (admin === 'ok' || admin === 'unknown') await pollAdmin();
      setLive('live', 'live');
      text($('updated'), 'updated ' + clock(Date.now()));
    } catch (e) {
      setLive('offline', 'server unreachable');
      seeded = false;
    }
    setTimeout(poll, POLL_MS);
  }

  $('token').value = token;
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    setAdmin('unknown');
    pollAdmin().catch(() => {});
  });
  $('forget').addEventListener('click', () => {
    token = '';
    $('token').value = '';
    sessionStorage.removeItem(TOKEN_KEY);
    setAdmin('unknown');
    pollAdmin().catch(() => {});
  });
  poll();
})();
