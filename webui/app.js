// Sluice's web UI: a small single-page app over the JobManager's REST API
// (Flink's endpoints). Plain ES module, no dependencies: it works offline and
// stays light with thousands of jobs — each view fetches only what it shows,
// every 2 s while it is open.

const REFRESH_MS = 2000;
const view = document.getElementById('view');
const statusLine = document.getElementById('status');
let timer = null;
let generation = 0;  // a newer route invalidates older pending renders

// ---------- helpers ----------

// A cluster with security.admin-token answers 401 without a token: the
// user's (the administrator's or a tenant's) is asked for once and kept for
// this tab only.
function authorized(headers = {}) {
  const token = sessionStorage.getItem('sluice-token');
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
}

async function call(path, options = {}) {
  const sent = sessionStorage.getItem('sluice-token');
  let response = await fetch(path, { ...options, headers: authorized(options.headers) });
  if (response.status === 401) {
    // Another request may have asked meanwhile: then its token is tried.
    if (sessionStorage.getItem('sluice-token') === sent) {
      const token = window.prompt('This cluster needs a token (the administrator\'s or your tenant\'s):');
      if (!token) return response;
      sessionStorage.setItem('sluice-token', token.trim());
    }
    response = await fetch(path, { ...options, headers: authorized(options.headers) });
  }
  return response;
}

async function get(path) {
  const response = await call(path, { headers: { Accept: 'application/json' } });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).errors.join('; '); } catch (e) { /* not JSON */ }
    throw new Error(`${path}: ${response.status} ${message}`);
  }
  return path.includes('/logs/') ? text : JSON.parse(text);
}

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function num(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
}

function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${num(n, 1)} ${units[i]}`;
}

function duration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} m` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function time(ms) {
  return ms > 0 ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '–';
}

function watermark(ms) {
  if (ms === null || ms === undefined) return 'none';
  if (ms >= 9.2e18) return 'end of input';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function state(s) { return `<span class="state ${esc(s)}">${esc(s)}</span>`; }

function bar(ratio, color) {
  const pct = Math.round(Math.max(0, Math.min(1, ratio || 0)) * 100);
  return `<span class="bar"><span style="width:${pct}%;background:${color}"></span></span> ${pct}%`;
}

function table(headers, rows, rowAttrs = () => '') {
  const head = headers.map((h) => `<th class="${h.num ? 'num' : ''}">${esc(h.title ?? h)}</th>`).join('');
  const body = rows.map((row, i) => `<tr ${rowAttrs(i)}>${row.map((cell, k) =>
    `<td class="${headers[k].num ? 'num' : ''}">${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body ||
    `<tr><td colspan="${headers.length}" class="muted">none</td></tr>`}</tbody></table>`;
}

function card(label, value) {
  return `<div class="card"><div class="value">${value}</div><div class="label">${esc(label)}</div></div>`;
}

// Busy time colours a vertex from green (idle) to red (busy), as Flink's UI;
// back pressure shows as a thick dark border.
function busyColor(ratio) {
  const r = Math.max(0, Math.min(1, ratio || 0));
  return `hsl(${Math.round(120 - 120 * r)}, 70%, ${Math.round(88 - 28 * r)}%)`;
}

// ---------- views ----------

async function overview() {
  const [o, jobs, tms] = await Promise.all([get('/overview'), get('/jobs/overview'),
    get('/taskmanagers').catch(() => null)]);
  const resources = tms?.sluice?.overview?.resources ?? [];
  const recent = jobs.jobs.slice().sort((a, b) => b['start-time'] - a['start-time']).slice(0, 10);
  return `<h1>Cluster overview</h1>
    <div class="cards">
      ${card('TaskManagers', num(o.taskmanagers))}
      ${card('Slots total', num(o['slots-total']))}
      ${card('Slots available', num(o['slots-available']))}
      ${card('Running jobs', num(o['jobs-running']))}
      ${card('Finished jobs', num(o['jobs-finished']))}
      ${card('Failed jobs', num(o['jobs-failed']))}
      ${card('Cancelled jobs', num(o['jobs-cancelled']))}
    </div>
    <h2>Utilization</h2>
    ${table(['Resource', { title: 'Used', num: true }, { title: 'Capacity', num: true }, 'Utilization'],
      resources.map((r) => [esc(r.resource), num(r.used, 2), num(r.capacity, 2),
        bar((r.utilization_percent || 0) / 100, 'var(--accent)')]))}
    <h2>Recent jobs</h2>${jobsTable(recent)}`;
}

function jobsTable(jobs) {
  return table(['Name', 'Job ID', 'State', 'Start', { title: 'Duration', num: true },
    { title: 'Tasks', num: true }],
  jobs.map((j) => [`<a href="#/jobs/${esc(j.jid)}">${esc(j.name)}</a>`, `<code>${esc(j.jid)}</code>`,
    state(j.state), time(j['start-time']), duration(j.duration),
    `${num(j.tasks.running)} / ${num(j.tasks.total)}`]));
}

async function jobs() {
  const data = await get('/jobs/overview');
  const list = data.jobs.slice().sort((a, b) => b['start-time'] - a['start-time']);
  const running = list.filter((j) => !['FINISHED', 'FAILED', 'CANCELED'].includes(j.state));
  const ended = list.filter((j) => ['FINISHED', 'FAILED', 'CANCELED'].includes(j.state));
  return `<h1>Jobs</h1><h2>Running (${running.length})</h2>${jobsTable(running)}
    <h2>Completed (${ended.length})</h2>${jobsTable(ended)}`;
}

// Columns by longest path from a source; rows in graph order.
function graphSvg(job) {
  const nodes = job.plan.nodes;
  const depth = new Map();
  const depthOf = (id) => {
    if (depth.has(id)) return depth.get(id);
    const node = nodes.find((n) => n.id === id);
    const d = node?.inputs ? 1 + Math.max(...node.inputs.map((i) => depthOf(i.id))) : 0;
    depth.set(id, d);
    return d;
  };
  nodes.forEach((n) => depthOf(n.id));
  const rows = new Map();
  const pos = new Map();
  const W = 220, H = 74, GX = 90, GY = 28;
  nodes.forEach((n) => {
    const col = depth.get(n.id);
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    pos.set(n.id, { x: 20 + col * (W + GX), y: 20 + row * (H + GY) });
  });
  const width = 40 + (Math.max(...depth.values()) + 1) * (W + GX);
  const height = 40 + Math.max(...rows.values()) * (H + GY);
  const vertices = new Map(job.vertices.map((v) => [v.id, v]));
  let svg = `<svg width="${width}" height="${height}" role="img" aria-label="job graph">`;
  nodes.forEach((n) => (n.inputs ?? []).forEach((input) => {
    const a = pos.get(input.id), b = pos.get(n.id);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    svg += `<path class="edge" d="M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}"/>`;
    svg += `<text x="${(x1 + x2) / 2 - 20}" y="${(y1 + y2) / 2 - 4}" fill="#6b7280">${esc(input.ship_strategy)}</text>`;
  }));
  nodes.forEach((n) => {
    const p = pos.get(n.id), v = vertices.get(n.id);
    const m = v?.metrics ?? {};
    const pressured = (m['backpressured-ratio'] || 0) > 0.1;
    svg += `<g class="vertex" data-vertex="${esc(n.id)}" style="cursor:pointer">
      <rect x="${p.x}" y="${p.y}" width="${W}" height="${H}" rx="8" fill="${busyColor(m['busy-ratio'])}"
        stroke="${pressured ? '#111827' : '#9ca3af'}" stroke-width="${pressured ? 4 : 1}"/>
      <text x="${p.x + 10}" y="${p.y + 18}" font-weight="600">${esc(n.description.slice(0, 32))}</text>
      <text x="${p.x + 10}" y="${p.y + 36}">parallelism ${n.parallelism} · ${esc(v?.status ?? '')}</text>
      <text x="${p.x + 10}" y="${p.y + 52}">busy ${Math.round((m['busy-ratio'] || 0) * 100)}% · backpressured ${Math.round((m['backpressured-ratio'] || 0) * 100)}%</text>
      <text x="${p.x + 10}" y="${p.y + 67}">in ${num(m['read-records-per-second'])}/s · out ${num(m['write-records-per-second'])}/s</text>
    </g>`;
  });
  return `${svg}</svg>`;
}

async function job(id, vertexId) {
  const [details, exceptions, checkpoints] = await Promise.all([get(`/jobs/${id}`),
    get(`/jobs/${id}/exceptions`), get(`/jobs/${id}/checkpoints`).catch(() => null)]);
  const ended = ['FINISHED', 'FAILED', 'CANCELED'].includes(details.state);
  const selected = vertexId ?? details.vertices[0]?.id;
  let vertexHtml = '';
  if (selected) {
    const v = await get(`/jobs/${id}/vertices/${selected}`);
    vertexHtml = `<h2>${esc(v.name)} — subtasks</h2>${table(['#', 'State', 'Attempt', 'TaskManager',
      { title: 'Records in', num: true }, { title: 'Records out', num: true },
      { title: 'In/s', num: true }, { title: 'Out/s', num: true }, { title: 'Bytes in', num: true },
      { title: 'Bytes out', num: true }, 'Busy', 'Backpressured', 'Watermark in', 'Duration'],
    v.subtasks.map((s) => [s.subtask, state(s.status), s.attempt, esc(s.endpoint),
      num(s.metrics['read-records']), num(s.metrics['write-records']),
      num(s.metrics['read-records-per-second']), num(s.metrics['write-records-per-second']),
      bytes(s.metrics['read-bytes']), bytes(s.metrics['write-bytes']),
      bar(s.metrics['busy-ratio'], busyColor(s.metrics['busy-ratio'])),
      bar(s.metrics['backpressured-ratio'], '#111827'),
      watermark(v.watermarks[s.subtask]?.input), duration(s.duration)]))}`;
  }
  const history = exceptions.exceptionHistory.entries;
  let checkpointHtml = '<p class="muted">Checkpointing is off for this job.</p>';
  if (checkpoints && checkpoints.counts) {
    const c = checkpoints.counts;
    checkpointHtml = `<div class="cards">${card('Completed', num(c.completed))}${card('Failed', num(c.failed))}
      ${card('In progress', num(c.in_progress))}${card('Restored', num(c.restored))}</div><br>
      ${table([{ title: 'ID', num: true }, 'Status', 'Triggered', { title: 'Duration', num: true },
        { title: 'Size', num: true }, 'Acknowledged'],
      (checkpoints.history ?? []).slice(0, 20).map((h) => [h.id, state(h.status), time(h.trigger_timestamp),
        duration(h.end_to_end_duration), bytes(h.state_size ?? h.checkpointed_size),
        `${num(h.num_acknowledged_subtasks)} / ${num(h.num_subtasks)}`]))}`;
  }
  return `<div class="toolbar"><h1 style="margin:0">${esc(details.name)}</h1> ${state(details.state)}
      <span class="muted">${esc(details.jid)}</span>
      <span style="margin-left:auto"></span>
      <button id="stop" ${ended ? 'disabled' : ''}>Stop with savepoint</button>
      <button id="cancel" class="danger" ${ended ? 'disabled' : ''}>Cancel job</button></div>
    <div class="cards">${card('Started', time(details['start-time']))}${card('Duration', duration(details.duration))}
      ${card('Parallelism', num(details.parallelism))}${card('Restarts', num(details.restarts))}
      ${card('Tenant', esc(details.tenant))}</div>
    <h2>Job graph</h2>
    <div class="legend"><span><i style="background:${busyColor(0)}"></i>idle</span>
      <span><i style="background:${busyColor(1)}"></i>busy</span>
      <span><i style="border:3px solid #111827"></i>back-pressured</span></div>
    <div class="graph">${graphSvg(details)}</div>
    <h2>Vertices</h2>${table(['Name', 'Status', { title: 'Parallelism', num: true },
      { title: 'Records in', num: true }, { title: 'Records out', num: true },
      { title: 'In/s', num: true }, { title: 'Out/s', num: true }, { title: 'Bytes in', num: true },
      { title: 'Bytes out', num: true }, 'Busy', 'Backpressured', 'Watermarks (input)'],
    details.vertices.map((v) => [esc(v.name), state(v.status), v.parallelism,
      num(v.metrics['read-records']), num(v.metrics['write-records']),
      num(v.metrics['read-records-per-second']), num(v.metrics['write-records-per-second']),
      bytes(v.metrics['read-bytes']), bytes(v.metrics['write-bytes']),
      bar(v.metrics['busy-ratio'], busyColor(v.metrics['busy-ratio'])),
      bar(v.metrics['backpressured-ratio'], '#111827'),
      esc(v.watermarks.map((w) => watermark(w.input)).join(', '))]),
    (i) => `class="clickable" data-vertex="${esc(details.vertices[i].id)}"`)}
    ${vertexHtml}
    <h2>Exceptions</h2>
    ${details['root-exception'] ? `<p class="error">Root cause: ${esc(details['root-exception'])}</p>` : ''}
    ${table(['Time', 'Task', 'Location', 'Exception'], history.map((e) => [time(e.timestamp),
      esc(e.taskName ?? ''), esc(e.location ?? ''), `<span class="error">${esc(e.stacktrace)}</span>`]))}
    <h2>Checkpoints</h2>${checkpointHtml}`;
}

function bindJob(id) {
  view.querySelectorAll('[data-vertex]').forEach((el) => el.addEventListener('click', () => {
    location.hash = `#/jobs/${id}/vertices/${el.dataset.vertex}`;
  }));
  const cancel = document.getElementById('cancel');
  cancel?.addEventListener('click', async () => {
    cancel.disabled = true;
    const response = await call(`/jobs/${id}?mode=cancel`, { method: 'PATCH' });
    statusLine.textContent = response.ok ? 'Cancel requested' : `Cancel failed: ${response.status}`;
    render();
  });
  const stop = document.getElementById('stop');
  stop?.addEventListener('click', async () => {
    stop.disabled = true;
    const response = await call(`/jobs/${id}/stop`, { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: '{"drain":false}' });
    statusLine.textContent = response.ok ? 'Stop with savepoint requested'
      : `Stop failed: ${(await response.text()).slice(0, 200)}`;
    render();
  });
}

async function taskmanagers() {
  const data = await get('/taskmanagers');
  const now = Date.now();
  let html = `<h1>TaskManagers (${data.taskmanagers.length})</h1>${table(['ID', 'Address', { title: 'Data port', num: true },
    { title: 'Slots', num: true }, { title: 'Free', num: true }, { title: 'CPU cores', num: true },
    { title: 'Memory', num: true }, { title: 'Heartbeat age', num: true }, { title: 'CPU time', num: true },
    { title: 'RSS', num: true }, 'Tenant', 'Logs'],
  data.taskmanagers.map((tm) => [`<code>${esc(tm.id)}</code>`, esc(tm.path), tm.dataPort, tm.slotsNumber,
    tm.freeSlots, num(tm.totalResource.cpuCores, 2), bytes(tm.hardware.physicalMemory),
    duration(now - tm.timeSinceLastHeartbeat), `${num(tm.cpuSeconds, 1)} s`,
    bytes(tm.residentMemoryBytes), esc(tm.tenant || '–'),
    `<a class="tm-logs" href="#/taskmanagers/${encodeURIComponent(tm.id)}/logs">logs</a>`]))}`;
  html += '<h2>Slots</h2>';
  html += table(['TaskManager', { title: 'Slot', num: true }, 'Job', 'Allocation', { title: 'CPU', num: true },
    { title: 'Memory', num: true }],
  data.taskmanagers.flatMap((tm) => tm.slots.map((s) => [`<code>${esc(tm.id)}</code>`, s.index,
    s.jobId ? `<a href="#/jobs/${esc(s.jobId)}">${esc(s.jobId)}</a>` : '<span class="muted">free</span>',
    `<code>${esc(s.allocationId)}</code>`, num(s.resource.cpuCores, 2), `${num(s.resource.taskHeapMemory)} MiB`])));
  return html;
}

async function resourcemanager() {
  const data = await get('/taskmanagers');
  const rm = data.sluice ?? {};
  return `<h1>ResourceManager</h1><p class="muted">Scheduler: ${esc(rm.scheduler)} · ID ${esc(rm.resource_manager_id)}</p>
    <h2>Tenants</h2>${table(['Tenant', { title: 'Weight', num: true }, 'Quota', { title: 'Slots', num: true },
      { title: 'Dominant share', num: true }, { title: 'Waiting jobs', num: true }],
    (rm.tenants ?? []).map((t) => [esc(t.name), num(t.weight, 2), esc(t.quota || '–'), num(t.slots),
      `${num((t.dominant_share || 0) * 100, 1)}%`, num(t.waiting_jobs)]))}
    <h2>Waiting slot requests</h2>${table(['Job', 'Tenant', { title: 'Priority', num: true },
      { title: 'Missing slots', num: true }, { title: 'Waiting', num: true }, 'Reason'],
    (rm.waiting ?? []).map((w) => [`<a href="#/jobs/${esc(w.job_id)}">${esc(w.job_id)}</a>`, esc(w.tenant),
      num(w.priority), num(w.missing_slots), duration((w.waiting_seconds || 0) * 1000), esc(w.reason)]))}`;
}

// The files under `base` (/jobmanager or /taskmanagers/<id>), linked from
// `link` (the page's own route), and the end of file `name` if one is chosen.
async function logFiles(title, base, link, name) {
  const list = await get(`${base}/logs`);
  const files = list.logs.map((l) => [`<a href="${link}/${encodeURIComponent(l.name)}">${esc(l.name)}</a>`,
    bytes(l.size)]);
  let html = `<h1>${esc(title)}</h1>${table(['File', { title: 'Size', num: true }], files)}`;
  if (name) {
    const text = await get(`${base}/logs/${encodeURIComponent(name)}`);
    html += `<h2>${esc(name)}</h2><pre>${esc(text.slice(-200000))}</pre>`;
  }
  return html;
}

const logs = (name) => logFiles('Logs', '/jobmanager', '#/logs', name);
const taskManagerLogs = (id, name) => logFiles(`Logs of TaskManager ${id}`,
  `/taskmanagers/${encodeURIComponent(id)}`, `#/taskmanagers/${encodeURIComponent(id)}/logs`, name);

// ---------- routing ----------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'jobs' && parts[1]) {
    return { name: 'jobs', render: () => job(parts[1], parts[3]), bind: () => bindJob(parts[1]) };
  }
  if (parts[0] === 'taskmanagers' && parts[2] === 'logs') {
    return { name: 'logs-taskmanager', render: () => taskManagerLogs(parts[1], parts[3]) };
  }
  const views = { jobs, taskmanagers, resourcemanager, logs: () => logs(parts[1]) };
  return { name: parts[0] || 'overview', render: views[parts[0]] ?? overview };
}

async function render() {
  clearTimeout(timer);
  const mine = ++generation;
  const current = route();
  document.querySelectorAll('nav a').forEach((a) =>
    a.classList.toggle('active', a.dataset.view === current.name));
  try {
    const html = await current.render();
    if (mine !== generation) return;
    const scroll = window.scrollY;
    view.innerHTML = html;
    window.scrollTo(0, scroll);
    current.bind?.();
    statusLine.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (mine !== generation) return;
    view.innerHTML = `<p class="error">${esc(error.message)}</p>`;
  }
  if (mine === generation && !current.name.startsWith('logs')) timer = setTimeout(render, REFRESH_MS);
}

window.addEventListener('hashchange', render);
render();
