// Metarr jobs page: plain DOM, no framework. Every text from the server goes through textContent
// (job titles come from webhooks and are attacker-controlled); no innerHTML anywhere.

const BASE = document.querySelector('meta[name="metarr-base"]').content;
const KEY_STORE = 'metarr.apikey';
const MAX_JOBS = 300;
const QUEUED = new Set(['created', 'retry']);

const $ = (id) => document.getElementById(id);
const jobs = new Map();
const rows = new Map();
let timeline = { minutes: 60, types: {} };
let key = null;
let socket = null;
let socketAttempt = 0;
let renderQueued = false;
let selected = null;
let detailFetches = 0;

// --- API key: `?apikey=` once, then sessionStorage; stripped from the address bar and history.
function initKey() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('apikey');
  if (fromUrl) {
    sessionStorage.setItem(KEY_STORE, fromUrl);
    url.searchParams.delete('apikey');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  key = sessionStorage.getItem(KEY_STORE);
}

function askForKey(message) {
  sessionStorage.removeItem(KEY_STORE);
  key = null;
  socket?.close();
  $('main').hidden = true;
  $('key-form').hidden = false;
  setStatus('locked', message || 'API key needed');
  $('key-input').focus();
}

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('key-input').value.trim();
  if (!value) return;
  sessionStorage.setItem(KEY_STORE, value);
  key = value;
  $('key-input').value = '';
  start();
});

async function api(method, route) {
  const res = await fetch(BASE + route, { method, headers: { 'x-api-key': key } });
  if (res.status === 401) {
    askForKey('That API key was refused');
    throw new Error('unauthorized');
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.message || `HTTP ${res.status}`);
  return body;
}

// --- data
function upsert(patch) {
  const prev = jobs.get(patch.id) || { id: patch.id, progress: null, detail: null };
  const next = Object.assign(prev, patch);
  jobs.set(patch.id, next);
  return next;
}

async function load() {
  try {
    const [list, tl] = await Promise.all([
      api('GET', '/api/jobs?limit=200'),
      api('GET', '/api/jobs/timeline?minutes=60'),
    ]);
    const live = new Map();
    for (const j of list) {
      const old = jobs.get(j.id);
      // Keep live progress the REST row does not carry.
      live.set(j.id, Object.assign({ progress: old?.progress ?? null, detail: old?.detail ?? null }, j));
    }
    // Jobs the feed announced after the list was read stay.
    for (const [id, j] of jobs) if (!live.has(id) && Date.now() - j.seenAt < 5000) live.set(id, j);
    jobs.clear();
    for (const [id, j] of live) jobs.set(id, j);
    timeline = tl;
    scheduleRender();
  } catch (err) {
    if (err.message !== 'unauthorized') setStatus('error', `load failed: ${err.message}`);
  }
}

async function fetchJob(id) {
  if (detailFetches > 8) return;
  detailFetches++;
  try {
    const j = await api('GET', `/api/jobs/${encodeURIComponent(id)}`);
    const cur = jobs.get(id);
    // The feed may be ahead of the row read: then only the row's static fields are taken.
    const ahead = cur && rank(cur.state) > rank(j.state);
    const patch = ahead
      ? {
          id,
          payload: j.payload,
          createdAt: j.createdAt,
          parentId: j.parentId,
          priority: j.priority,
          maxRetries: j.maxRetries,
        }
      : Object.assign({}, j);
    delete patch.children;
    delete patch.parent;
    upsert(patch);
    scheduleRender();
  } catch {
  } finally {
    detailFetches--;
  }
}

function rank(state) {
  return { created: 0, retry: 1, active: 2, completed: 3, failed: 3, cancelled: 3 }[state] ?? 0;
}

function applyEvent(msg) {
  const d = msg.data || {};
  const now = new Date().toISOString();
  switch (msg.event) {
    case 'job:created':
      upsert({
        id: d.jobId,
        type: d.type,
        priority: d.priority,
        parentId: d.parentId ?? null,
        state: 'created',
        createdAt: now,
        seenAt: Date.now(),
      });
      fetchJob(d.jobId);
      break;
    case 'job:started':
      upsert({
        id: d.jobId,
        type: d.type,
        priority: d.priority,
        state: 'active',
        waitMs: d.waitMs ?? null,
        startedAt: now,
        error: null,
      });
      break;
    case 'job:progress':
      upsert({ id: d.jobId, type: d.type, state: 'active', progress: d.progress, detail: d.detail ?? null });
      break;
    case 'job:completed':
      upsert({
        id: d.jobId,
        type: d.type,
        state: 'completed',
        durationMs: d.durationMs ?? null,
        progress: 100,
        completedAt: now,
      });
      bump(d.type, 'done');
      break;
    case 'job:failed':
      upsert({
        id: d.jobId,
        type: d.type,
        state: d.willRetry ? 'retry' : 'failed',
        error: d.error ?? 'failed',
        retryCount: d.retryCount,
        maxRetries: d.maxRetries,
      });
      if (!d.willRetry) bump(d.type, 'failed');
      break;
    case 'feed:resync':
      setStatus('live', 'live (resynced)');
      load();
      return;
    case 'feed:down':
      setStatus('warn', 'database feed reconnecting…');
      return;
    case 'feed:ready':
      setStatus(d.listening ? 'live' : 'warn', d.listening ? 'live' : 'database feed connecting…');
      return;
    default:
      return;
  }
  trim();
  scheduleRender();
}

function bump(type, series) {
  timeline.types[type] ||= {
    done: Array(timeline.minutes).fill(0),
    failed: Array(timeline.minutes).fill(0),
    avgMs: Array(timeline.minutes).fill(0),
  };
  const t = timeline.types[type];
  t[series][t[series].length - 1]++;
}

function trim() {
  if (jobs.size <= MAX_JOBS) return;
  const finished = [...jobs.values()]
    .filter((j) => rank(j.state) === 3)
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  for (const j of finished.slice(0, jobs.size - MAX_JOBS)) jobs.delete(j.id);
}

// --- feed
function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}${BASE}/api/ws?apikey=${encodeURIComponent(key)}`);
  socket = ws;
  ws.onopen = () => {
    // After a drop anything could have happened: read the list again.
    if (socketAttempt > 0) load();
    socketAttempt = 0;
  };
  ws.onmessage = (e) => {
    try {
      applyEvent(JSON.parse(e.data));
    } catch {}
  };
  ws.onclose = () => {
    if (socket !== ws || !key) return;
    setStatus('warn', 'reconnecting…');
    // The browser cannot import core's backoffDelay; the same capped doubling, written for the page.
    const delay = Math.min(10000, 250 * 2 ** socketAttempt++);
    setTimeout(() => key && connect(), delay);
  };
}

function setStatus(state, text) {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

// --- rendering
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children)
    if (c != null) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

const fmtMs = (v) =>
  v == null
    ? ''
    : v < 1000
      ? `${Math.round(v)} ms`
      : v < 60000
        ? `${(v / 1000).toFixed(1)} s`
        : `${Math.round(v / 60000)} min`;

function titleOf(j) {
  const p = j.payload || {};
  if (typeof p.title === 'string' && p.title) return p.year ? `${p.title} (${p.year})` : p.title;
  if (typeof p.path === 'string') return p.path.split(/[\\/]/).filter(Boolean).pop() || p.path;
  if (p.movieId) return `movie ${p.movieId}`;
  if (p.libraryId) return `library ${p.libraryId}`;
  return '';
}

function stateLabel(s) {
  return s === 'created' ? 'queued' : s;
}

function sorted() {
  const order = (j) => (j.state === 'active' ? 0 : QUEUED.has(j.state) ? 1 : 2);
  return [...jobs.values()].sort(
    (a, b) => order(a) - order(b) || String(b.createdAt).localeCompare(String(a.createdAt)),
  );
}

function render() {
  renderCounts();
  renderSparks();
  renderChains();
  renderTable();
  renderDetail();
}

function renderCounts() {
  const c = { active: 0, queued: 0, failed: 0, completed: 0 };
  for (const j of jobs.values()) {
    if (j.state === 'active') c.active++;
    else if (QUEUED.has(j.state)) c.queued++;
    else if (j.state === 'failed') c.failed++;
    else if (j.state === 'completed') c.completed++;
  }
  $('counts').replaceChildren(
    ...Object.entries(c).map(([k, v]) =>
      el('span', { class: `count ${k}` }, el('b', null, String(v)), ` ${k}`),
    ),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
function sparkline(values, w, h, cls) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('class', cls);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.append(line);
  return svg;
}

function renderSparks() {
  const types = Object.keys(timeline.types).sort();
  if (!types.length) {
    $('sparks').replaceChildren(el('p', { class: 'empty' }, 'Nothing finished in the last hour.'));
    return;
  }
  $('sparks').replaceChildren(
    ...types.map((type) => {
      const t = timeline.types[type];
      const total = t.done.reduce((a, b) => a + b, 0);
      const failed = t.failed.reduce((a, b) => a + b, 0);
      const withMs = t.avgMs.filter((v) => v > 0);
      const avg = withMs.length ? withMs.reduce((a, b) => a + b, 0) / withMs.length : null;
      return el(
        'div',
        { class: 'spark', 'data-type': type },
        el('div', { class: 'spark-name' }, type),
        sparkline(t.done, 120, 28, 'spark-done'),
        el(
          'div',
          { class: 'spark-meta' },
          `${total} done`,
          failed ? el('span', { class: 'bad' }, ` · ${failed} failed`) : null,
          avg ? ` · ~${fmtMs(avg)}` : '',
        ),
      );
    }),
  );
}

function renderChains() {
  const children = new Map();
  for (const j of jobs.values()) {
    if (!j.parentId) continue;
    if (!children.has(j.parentId)) children.set(j.parentId, []);
    children.get(j.parentId).push(j);
  }
  const roots = [...jobs.values()]
    .filter((j) => !j.parentId || !jobs.has(j.parentId))
    .filter((j) => children.has(j.id) || j.type === 'webhook')
    .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)))
    .slice(0, 12);
  if (!roots.length) {
    $('chains').replaceChildren(el('p', { class: 'empty' }, 'No chains yet.'));
    return;
  }
  $('chains').replaceChildren(
    ...roots.map((root) => {
      const chips = [];
      const walk = (j) => {
        if (chips.length) chips.push(el('span', { class: 'arrow' }, '→'));
        chips.push(chip(j));
        const kids = (children.get(j.id) || []).sort((a, b) =>
          String(a.createdAt).localeCompare(String(b.createdAt)),
        );
        for (const k of kids) walk(k);
      };
      walk(root);
      const title = titleOf(root) || [...(children.get(root.id) || [])].map(titleOf).find(Boolean) || '';
      return el(
        'div',
        { class: 'chain', 'data-root-id': root.id },
        el('div', { class: 'chain-title' }, title || root.type),
        el('div', { class: 'chips' }, ...chips),
      );
    }),
  );
}

function chip(j) {
  const b = el(
    'button',
    {
      class: `chip s-${j.state}`,
      type: 'button',
      'data-job-id': j.id,
      'data-state': j.state,
      title: `${j.type}: ${stateLabel(j.state)}`,
    },
    j.type,
  );
  if (j.state === 'active' && j.progress != null)
    b.append(el('span', { class: 'chip-pct' }, ` ${j.progress}%`));
  b.addEventListener('click', () => select(j.id));
  return b;
}

function renderTable() {
  const fState = $('filter-state').value;
  const fType = $('filter-type').value;
  const types = new Set([...jobs.values()].map((j) => j.type).filter(Boolean));
  const sel = $('filter-type');
  const have = new Set([...sel.options].map((o) => o.value));
  for (const t of [...types].sort()) if (!have.has(t)) sel.append(el('option', { value: t }, t));

  const tbody = document.querySelector('#jobs tbody');
  const list = sorted().filter(
    (j) =>
      (!fType || j.type === fType) &&
      (!fState || (fState === 'queued' ? QUEUED.has(j.state) : j.state === fState)),
  );
  const keep = new Set();
  for (const j of list) {
    keep.add(j.id);
    let r = rows.get(j.id);
    if (!r) {
      r = makeRow(j.id);
      rows.set(j.id, r);
    }
    fillRow(r, j);
    tbody.append(r.tr);
  }
  for (const [id, r] of rows) {
    if (!keep.has(id)) {
      r.tr.remove();
      rows.delete(id);
    }
  }
  $('empty').hidden = list.length > 0;
}

function makeRow(id) {
  const cells = {};
  const tr = el('tr', { 'data-job-id': id });
  for (const name of ['type', 'title', 'state', 'prio', 'wait', 'duration', 'progress', 'error', 'actions']) {
    cells[name] = el('td', { class: name });
    tr.append(cells[name]);
  }
  const bar = el('div', { class: 'bar' }, el('div', { class: 'fill' }));
  const pct = el('span', { class: 'pct' });
  cells.progress.append(bar, pct);
  const retry = el('button', { class: 'retry', type: 'button' }, 'Retry');
  const cancel = el('button', { class: 'cancel', type: 'button' }, 'Cancel');
  retry.addEventListener('click', () => act(id, 'retry'));
  cancel.addEventListener('click', () => act(id, 'cancel'));
  cells.actions.append(retry, cancel);
  tr.addEventListener('click', (e) => {
    if (e.target.tagName !== 'BUTTON') select(id);
  });
  return { tr, cells, bar, pct, retry, cancel };
}

function fillRow(r, j) {
  const c = r.cells;
  r.tr.dataset.state = j.state;
  r.tr.classList.toggle('selected', selected === j.id);
  setText(c.type, j.type || '');
  setText(c.title, titleOf(j));
  c.title.title = titleOf(j);
  setText(c.state, stateLabel(j.state));
  c.state.className = `state s-${j.state}`;
  setText(c.prio, j.priority == null ? '' : String(j.priority));
  setText(c.wait, fmtMs(j.waitMs));
  setText(c.duration, fmtMs(j.durationMs));
  const p = j.state === 'completed' ? 100 : j.progress;
  r.bar.hidden = p == null;
  r.bar.firstChild.style.width = `${p ?? 0}%`;
  setText(r.pct, p == null ? '' : `${p}%${j.detail && j.state === 'active' ? ` ${j.detail}` : ''}`);
  setText(c.error, j.error || '');
  c.error.title = j.error || '';
  r.retry.hidden = !(j.state === 'failed' || j.state === 'cancelled');
  r.cancel.hidden = !(j.state === 'active' || QUEUED.has(j.state));
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

async function act(id, action) {
  try {
    await api('POST', `/api/jobs/${encodeURIComponent(id)}/${action}`);
    const j = jobs.get(id);
    if (j) {
      j.state = action === 'retry' ? (j.state === 'cancelled' ? 'created' : 'retry') : 'cancelled';
      j.error = action === 'retry' ? null : j.error;
    }
    scheduleRender();
  } catch (err) {
    if (err.message !== 'unauthorized') alertBar(`${action} failed: ${err.message}`);
  }
}

function alertBar(text) {
  setStatus('error', text);
  setTimeout(
    () =>
      setStatus(
        socket?.readyState === 1 ? 'live' : 'warn',
        socket?.readyState === 1 ? 'live' : 'reconnecting…',
      ),
    4000,
  );
}

async function select(id) {
  selected = id;
  renderDetail();
  try {
    const tree = await api('GET', `/api/jobs/${encodeURIComponent(id)}/tree`);
    if (selected === id) {
      selectedTree = tree;
      renderDetail();
    }
  } catch {}
}

let selectedTree = null;
function renderDetail() {
  const box = $('detail');
  const j = selected && jobs.get(selected);
  if (!j) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const close = el('button', { class: 'close', type: 'button' }, '×');
  close.addEventListener('click', () => {
    selected = null;
    selectedTree = null;
    renderDetail();
    scheduleRender();
  });
  const lines = [
    ['id', j.id],
    ['type', j.type],
    ['state', stateLabel(j.state)],
    ['priority', String(j.priority ?? '')],
    ['attempts', j.attempts != null ? `${j.attempts} (max retries ${j.maxRetries})` : ''],
    ['created', j.createdAt || ''],
    ['wait', fmtMs(j.waitMs)],
    ['duration', fmtMs(j.durationMs)],
    ['error', j.error || ''],
  ].filter(([, v]) => v);
  const dl = el('dl', null);
  for (const [k, v] of lines) dl.append(el('dt', null, k), el('dd', null, v));
  const parts = [close, el('h3', null, `${j.type} `, el('small', null, titleOf(j))), dl];
  if (j.payload) parts.push(el('h4', null, 'Payload'), el('pre', null, JSON.stringify(j.payload, null, 2)));
  if (selectedTree?.root && selectedTree.jobId === j.id) {
    parts.push(el('h4', null, `Lineage (${selectedTree.size} jobs)`));
    const tree = (n) =>
      el(
        'li',
        null,
        chip(jobs.get(n.id) || n),
        ' ',
        el('span', { class: 'muted' }, fmtMs(n.durationMs)),
        n.children.length ? el('ul', null, ...n.children.map(tree)) : null,
      );
    parts.push(el('ul', { class: 'tree' }, tree(selectedTree.root)));
  }
  box.replaceChildren(...parts);
}

$('filter-state').addEventListener('change', scheduleRender);
$('filter-type').addEventListener('change', scheduleRender);

// `#job-<id>` (the web app's movie view links here) opens that job's detail.
async function openFromHash() {
  const m = /^#job-([0-9a-f-]{36})$/.exec(location.hash);
  if (!m) return;
  if (!jobs.has(m[1])) {
    try {
      upsert(await api('GET', `/api/jobs/${m[1]}`));
    } catch {
      return;
    }
  }
  select(m[1]);
}
addEventListener('hashchange', () => key && openFromHash());

function start() {
  $('key-form').hidden = true;
  $('main').hidden = false;
  setStatus('connecting', 'connecting…');
  load().then(openFromHash);
  connect();
}

initKey();
if (key) start();
else askForKey();
// Sparklines and anything the feed cannot tell (cancellations, retention) refresh slowly.
setInterval(() => key && load(), 30000);
