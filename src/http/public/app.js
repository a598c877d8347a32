// The dashboard: the experiments table (sortable, paged, with a 30-day sparkline per row) and, per
// experiment, its sessions table and trend chart. Plain DOM and SVG; every number comes from the API.
const view = document.getElementById('view');
const PAGE = 25;
const DAY = 86400000;

const api = async (path) => {
  const res = await fetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.message ?? res.statusText);
  return body;
};
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const fmt = (n) => n.toLocaleString('en');
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** Human messages per day over [from, to), from buckets of any size (a month spreads evenly over its days). */
function daily(points, from, to) {
  const days = Math.max(1, Math.round((to - from) / DAY));
  const values = new Array(days).fill(0);
  for (const p of points) {
    const start = Date.parse(p.bucketStart);
    const end = Date.parse(p.bucketEnd);
    const span = Math.max(1, Math.round((end - start) / DAY));
    for (let t = Math.max(start, from); t < Math.min(end, to); t += DAY) {
      const i = Math.floor((t - from) / DAY);
      if (i >= 0 && i < days) values[i] += p.humanMessages / (p.bucketSize === 'hour' ? 1 : span);
    }
  }
  return values;
}

function sparkline(values, width = 120, height = 24) {
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length - 1);
  const d = values
    .map(
      (v, i) =>
        `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`,
    )
    .join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('class', 'sparkline');
  svg.innerHTML = `<path d="${d}" fill="none" stroke="#3867d6" stroke-width="1.5"/>`;
  return svg;
}

function chart(points) {
  const width = 900;
  const height = 220;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('data-points', String(points.length));
  if (points.length === 0) {
    svg.innerHTML = `<text x="20" y="110" fill="#6b7480">no buckets in this range</text>`;
    return svg;
  }
  const t0 = Date.parse(points[0].bucketStart);
  const t1 = Date.parse(points[points.length - 1].bucketEnd);
  // Bars are per-hour rates, so a month and an hour of equal traffic stand equally tall.
  const rate = (p) => p.humanMessages / ((Date.parse(p.bucketEnd) - Date.parse(p.bucketStart)) / 3600000);
  const max = Math.max(...points.map(rate), 1e-9);
  const x = (t) => 40 + ((t - t0) / Math.max(1, t1 - t0)) * (width - 60);
  const bars = points
    .map((p) => {
      const h = (rate(p) / max) * (height - 50);
      const x0 = x(Date.parse(p.bucketStart));
      const w = Math.max(1, x(Date.parse(p.bucketEnd)) - x0 - 1);
      const color = { hour: '#3867d6', day: '#20bf6b', month: '#fa8231' }[p.bucketSize];
      return `<rect x="${x0.toFixed(1)}" y="${(height - 30 - h).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${p.bucketSize} ${p.bucketStart}: ${p.humanMessages} human messages</title></rect>`;
    })
    .join('');
  svg.innerHTML = `${bars}<text x="40" y="${height - 10}" fill="#6b7480">${points[0].bucketStart.slice(0, 10)}</text><text x="${width - 20}" y="${height - 10}" text-anchor="end" fill="#6b7480">${points[points.length - 1].bucketEnd.slice(0, 10)}</text><text x="40" y="16" fill="#6b7480">human messages per hour (hour · day · month buckets)</text>`;
  return svg;
}

function table(columns, rows, state, onSort) {
  const head = el('tr');
  for (const c of columns) {
    const th = el(
      'th',
      { 'data-key': c.key, class: c.num ? 'num' : '' },
      c.label + (state.sort === c.key ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''),
    );
    if (state.sort === c.key) th.setAttribute('data-active', '');
    if (c.sortable !== false) th.addEventListener('click', () => onSort(c.key));
    head.append(th);
  }
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr');
    for (const c of columns)
      tr.append(el('td', { class: c.num ? 'num' : '', 'data-col': c.key }, c.render(r)));
    body.append(tr);
  }
  return el('table', {}, el('thead', {}, head), body);
}

/**
 * How current the numbers are, from an API answer's `freshness`: "updated 4 s ago", and a marker
 * when changes touching them are waiting for the next refresh; "exact now" for a fresh answer,
 * "counted live" while the cache was never built.
 */
export function freshnessLine(freshness, now = Date.now()) {
  if (!freshness) return '';
  if (freshness.mode === 'live') return 'counted live · the cache is not built yet';
  const updated = freshness.refreshedAt ? `updated ${ago(freshness.refreshedAt, now)}` : 'never refreshed';
  const n = freshness.pendingChanges;
  const changes = `${n.toLocaleString('en')} change${n === 1 ? '' : 's'}`;
  if (freshness.mode === 'fresh')
    return n > 0 ? `exact now · ${changes} recounted (${updated})` : `exact now (${updated})`;
  const fell = freshness.fellBack ? ' · too many to recount now' : '';
  return n > 0
    ? `${updated} · ${changes} pending (oldest ${ago(freshness.oldestPendingAt, now)})${fell}`
    : `${updated} · up to date`;
}

/** The freshness line, and a control that reloads the view exact now (`fresh=1`). */
const freshnessEl = (freshness, reloadFresh) => {
  const button = el(
    'button',
    { id: 'reload-fresh', title: 'recount what pending changes touch, now' },
    'reload exact now',
  );
  button.addEventListener('click', reloadFresh);
  const marked = freshness?.mode === 'cached' && freshness?.pendingChanges > 0;
  return el(
    'p',
    { id: 'freshness-bar' },
    el('span', { id: 'freshness', class: marked ? 'muted pending' : 'muted' }, freshnessLine(freshness)),
    ' ',
    button,
  );
};

/** `&fresh=1` when the view was asked exact now. */
const freshParam = (state) => (state.fresh ? '&fresh=1' : '');
const hashState = (next) => `sort=${next.sort}&order=${next.order}&offset=${next.offset}${freshParam(next)}`;
/** Reload the current view exact now (a new hash even if it already says fresh=1). */
const reloadFresh = (base, state) => () => {
  const hash = `${base}?${hashState({ ...state, fresh: true })}`;
  if (location.hash === hash) route();
  else location.hash = hash;
};

function pager(state, total, onPage) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const page = Math.floor(state.offset / PAGE) + 1;
  const prev = el('button', { id: 'prev' }, '‹ prev');
  const next = el('button', { id: 'next' }, 'next ›');
  prev.disabled = page <= 1;
  next.disabled = page >= pages;
  prev.addEventListener('click', () => onPage(state.offset - PAGE));
  next.addEventListener('click', () => onPage(state.offset + PAGE));
  return el(
    'div',
    { class: 'pager' },
    prev,
    el('span', { id: 'page' }, `page ${page} of ${pages}`),
    next,
    el('span', { class: 'muted', id: 'total' }, `${fmt(total)} in all`),
  );
}

const DESC_FIRST = new Set(['sessions', 'participants', 'humanMessages', 'lastActivity', 'createdAt']);

/** The state after clicking column `key`: the other direction if it is the sort already, else its natural one. */
function sortedBy(state, key) {
  const order =
    state.sort === key ? (state.order === 'asc' ? 'desc' : 'asc') : DESC_FIRST.has(key) ? 'desc' : 'asc';
  return { sort: key, order, offset: 0, fresh: state.fresh };
}

async function experiments(state) {
  const params = new URLSearchParams({
    sort: state.sort,
    order: state.order,
    limit: PAGE,
    offset: state.offset,
  });
  const page = await api(`/api/experiments?${params}${freshParam(state)}`);
  const to = Date.now();
  const from = to - 30 * DAY;
  const ids = page.rows.map((r) => r.experimentId);
  const spark = ids.length
    ? (
        await api(
          `/api/series?experiments=${ids.join(',')}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${freshParam(state)}`,
        )
      ).series
    : {};
  const go = (next) => {
    location.hash = `#/?${hashState(next)}`;
  };
  const columns = [
    {
      key: 'name',
      label: 'experiment',
      render: (r) => el('a', { href: `#/experiments/${r.experimentId}` }, r.name || `#${r.experimentId}`),
    },
    { key: 'sessions', label: 'sessions', num: true, render: (r) => fmt(r.sessions) },
    { key: 'participants', label: 'participants', num: true, render: (r) => fmt(r.participants) },
    { key: 'humanMessages', label: 'human messages', num: true, render: (r) => fmt(r.humanMessages) },
    {
      key: 'lastActivity',
      label: 'last activity',
      render: (r) => el('span', { title: r.lastActivityAt ?? '' }, ago(r.lastActivityAt)),
    },
    {
      key: 'trend',
      label: 'last 30 days',
      sortable: false,
      render: (r) => sparkline(daily(spark[r.experimentId] ?? [], from, to)),
    },
  ];
  view.replaceChildren(
    el('h2', {}, 'Experiments'),
    freshnessEl(page.freshness, reloadFresh('#/', state)),
    pager(state, page.total, (offset) => go({ ...state, offset })),
    table(columns, page.rows, state, (key) => go(sortedBy(state, key))),
  );
}

async function experiment(id, state) {
  const params = new URLSearchParams({
    sort: state.sort,
    order: state.order,
    limit: PAGE,
    offset: state.offset,
  });
  const to = new Date();
  const from = new Date(to.getTime() - 365 * DAY);
  const [sessions, trend] = await Promise.all([
    api(`/api/experiments/${id}/sessions?${params}${freshParam(state)}`),
    api(
      `/api/experiments/${id}/series?from=${from.toISOString()}&to=${to.toISOString()}${freshParam(state)}`,
    ),
  ]);
  const go = (next) => {
    location.hash = `#/experiments/${id}?${hashState(next)}`;
  };
  const columns = [
    { key: 'id', label: 'session', render: (r) => `#${r.sessionId}` },
    { key: 'humanMessages', label: 'messages', num: true, render: (r) => fmt(r.humanMessages) },
    {
      key: 'lastActivity',
      label: 'last activity',
      render: (r) => el('span', { title: r.lastActivityAt ?? '' }, ago(r.lastActivityAt)),
    },
    {
      key: 'versions',
      label: 'versions',
      sortable: false,
      render: (r) => r.experimentVersions.join(', ') || '—',
    },
    {
      key: 'participant',
      label: 'participant',
      sortable: false,
      render: (r) => r.participantIdentifier ?? '—',
    },
    { key: 'createdAt', label: 'started', render: (r) => r.createdAt.slice(0, 16).replace('T', ' ') },
  ];
  view.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← experiments')),
    el('h2', { id: 'experiment-name' }, trend.name || `Experiment #${id}`),
    chart(trend.points),
    el('h3', {}, 'Sessions'),
    freshnessEl(sessions.freshness, reloadFresh(`#/experiments/${id}`, state)),
    pager(state, sessions.total, (offset) => go({ ...state, offset })),
    table(columns, sessions.rows, state, (key) => go(sortedBy(state, key))),
  );
}

async function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const p = new URLSearchParams(query);
  const match = /^\/experiments\/(\d+)$/.exec(path ?? '');
  const state = (sort, order) => ({
    sort: p.get('sort') ?? sort,
    order: p.get('order') ?? order,
    offset: Number(p.get('offset') ?? 0),
    fresh: p.get('fresh') === '1',
  });
  try {
    if (match) await experiment(match[1], state('lastActivity', 'desc'));
    else await experiments(state('humanMessages', 'desc'));
    view.setAttribute('data-ready', location.hash);
  } catch (error) {
    view.replaceChildren(el('p', { class: 'error' }, String(error.message ?? error)));
  }
  api('/api/status').then(
    (s) => {
      document.getElementById('lag').textContent =
        `lag ${s.pending.lagSeconds.toFixed(0)} s · ${fmt(s.pending.count)} pending`;
    },
    () => {},
  );
}

window.addEventListener('hashchange', route);
route();
