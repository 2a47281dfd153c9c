// sealfleet dashboard. Plain JS, no framework: each view fetches only what it shows (a page, a time window,
// counts) and then follows /api/events, applying small deltas; the periodic "tick" carries the overview.
'use strict';
(() => {
  // ---------- helpers ----------
  const $ = (sel, root = document) => root.querySelector(sel);
  const SVGNS = 'http://www.w3.org/2000/svg';

  // h builds an element: attrs may hold class, text, style (object), data (object), on<event> handlers and
  // plain attributes; kids are nodes, strings or arrays of them (null and false are skipped).
  function build(el, attrs, kids) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'style') Object.assign(el.style, v);
      else if (k === 'data') Object.entries(v).forEach(([dk, dv]) => { el.dataset[dk] = dv; });
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    const add = (c) => {
      if (c == null || c === false) return;
      if (Array.isArray(c)) c.forEach(add);
      else el.append(c instanceof Node ? c : String(c));
    };
    add(kids);
    return el;
  }
  const h = (tag, attrs, ...kids) => build(document.createElement(tag), attrs, kids);
  const svg = (tag, attrs, ...kids) => build(document.createElementNS(SVGNS, tag), attrs, kids);
  const clear = (el, ...kids) => { el.replaceChildren(); build(el, null, kids); return el; };

  const nf = new Intl.NumberFormat();
  const num = (n) => nf.format(n);
  function bytes(b) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    while (Math.abs(b) >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (b >= 100 || i === 0 ? b.toFixed(0) : b.toFixed(1)) + ' ' + u[i];
  }
  function dur(sec) {
    sec = Math.max(0, Math.round(sec));
    if (sec < 60) return sec + 's';
    const m = Math.floor(sec / 60);
    if (m < 60) return m + 'm ' + (sec % 60) + 's';
    const hr = Math.floor(m / 60);
    if (hr < 48) return hr + 'h ' + (m % 60) + 'm';
    return Math.floor(hr / 24) + 'd ' + (hr % 24) + 'h';
  }
  let skew = 0; // server clock minus browser clock, ms
  const now = () => Date.now() + skew;
  const ms = (iso) => (iso ? Date.parse(iso) : 0);
  const ago = (iso) => dur((now() - ms(iso)) / 1000) + ' ago';
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const stamp = (t) => new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

  const rootStyle = getComputedStyle(document.documentElement);
  const colorCache = {};
  function taskColor(t) {
    if (!(t in colorCache)) colorCache[t] = (rootStyle.getPropertyValue('--t-' + t).trim() || rootStyle.getPropertyValue('--t-other').trim());
    return colorCache[t];
  }
  // a task tag; CSS custom properties cannot be set through Object.assign, so --c is set explicitly
  function tagEl(t) { const e = h('span', { class: 'tag', text: t }); e.style.setProperty('--c', taskColor(t)); return e; }

  function bar(parts) {
    const b = h('div', { class: 'bar' });
    for (const [frac, cls] of parts) {
      const s = h('span', cls ? { class: cls } : null);
      s.style.width = (Math.max(0, Math.min(1, frac || 0)) * 100).toFixed(2) + '%';
      b.append(s);
    }
    return b;
  }
  const level = (f) => (f > 0.9 ? 'bad' : f > 0.75 ? 'warn' : '');
  const frac = (a, b) => (b > 0 ? a / b : 0);
  function meter(name, used, total, fmt) {
    const f = frac(used, total);
    return h('div', { class: 'meter' }, h('span', { class: 'name', text: name }), bar([[f, level(f)]]),
      h('span', { class: 'val', text: total ? `${fmt(used)} / ${fmt(total)}` : '—' }));
  }
  function cellBar(used, total, fmt) {
    if (!total) return h('span', { class: 'muted', text: '—' });
    const f = frac(used, total);
    return h('div', { class: 'cell-bar' }, bar([[f, level(f)]]), h('small', { text: `${fmt(used)} / ${fmt(total)}` }));
  }
  function pager(el, p, total, reload) {
    const end = Math.min(total, p.offset + p.limit);
    clear(el,
      h('span', { text: total ? `${num(p.offset + 1)}–${num(end)} of ${num(total)}` : '0 of 0' }),
      h('button', { text: '‹', disabled: p.offset === 0, onclick: () => { p.offset = Math.max(0, p.offset - p.limit); reload(); } }),
      h('button', { text: '›', disabled: end >= total, onclick: () => { p.offset += p.limit; reload(); } }));
  }

  async function api(path) {
    const r = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (r.status === 401) { location.href = '/login'; throw new Error('signed out'); }
    if (!r.ok) throw new Error(`${path}: ${r.status} ${(await r.json().catch(() => ({}))).error || ''}`);
    return r.json();
  }
  const timers = {};
  function later(key, fn, delay) {
    if (timers[key]) return;
    timers[key] = setTimeout(() => { delete timers[key]; fn(); }, delay);
  }

  // ---------- state ----------
  const S = {
    view: 'overview',
    ov: null,
    wk: { offset: 0, limit: 50, q: '', data: null },
    tl: { hours: 6, to: 0, offset: 0, limit: 40, q: '', data: null, jobs: new Map(), lanes: new Set() },
    sc: { state: '', offset: 0, limit: 50, data: null, sel: '', events: null },
    st: { data: null },
    qu: { offset: 0, limit: 25, data: null },
  };

  // ---------- overview ----------
  function card(label, value, sub, id) {
    return h('div', { class: 'card', id }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }),
      h('div', { class: 'sub', text: sub }));
  }
  function stages(el, counts, opts = {}) {
    const max = Math.max(1, ...counts.map((c) => c.count));
    const items = counts.map((c) => {
      const e = h('div', { class: 'stage' + (/Fail/.test(c.state) && c.count > 0 ? ' failed' : '') + (opts.sel === c.state ? ' sel' : ''), data: { state: c.state },
        onclick: opts.onpick ? () => opts.onpick(c.state) : null },
      h('div', { class: 'n', text: num(c.count) }), h('div', { class: 's', text: c.state, title: c.state }), bar([[c.count / max]]));
      return e;
    });
    if (opts.all != null) {
      items.unshift(h('div', { class: 'stage' + (opts.sel === '' ? ' sel' : ''), data: { state: '' }, onclick: () => opts.onpick('') },
        h('div', { class: 'n', text: num(opts.all) }), h('div', { class: 's', text: 'All sectors' }), bar([[1]])));
    }
    clear(el, items);
  }
  function renderOverview() {
    const o = S.ov;
    if (!o) return;
    const w = o.workers, q = o.queue, st = o.storage;
    const proving = (o.sectors.find((c) => c.state === 'Proving') || { count: 0 }).count;
    clear($('#ov-cards'),
      card('Workers', `${num(w.enabled)} / ${num(w.total)}`, `${num(w.busy)} busy · ${num(w.total - w.enabled)} disabled`, 'card-workers'),
      card('Sectors', num(o.sectorsTotal), `${num(o.sectorsTotal - proving)} in the pipeline · ${num(proving)} proving`, 'card-sectors'),
      card('Queue', num(q.total), q.total ? `oldest waiting ${dur(q.oldestWaitSec)}` : 'nothing waiting', 'card-queue'),
      card('Storage used', (frac(st.used, st.capacity) * 100).toFixed(0) + '%', `${bytes(st.used)} of ${bytes(st.capacity)}`, 'card-storage'));
    clear($('#ov-res'),
      meter('CPU', w.cpuUsed, w.cpuTotal, (n) => num(n) + (n === w.cpuTotal ? ' cores' : '')),
      meter('Memory', w.memUsed, w.memTotal, bytes),
      meter('GPU', w.gpuUsed, w.gpuTotal, (n) => num(Math.round(n * 10) / 10)));
    clear($('#ov-storage'),
      h('div', { class: 'meter' }, h('span', { class: 'name', text: 'Used' }),
        bar([[frac(st.used, st.capacity), level(frac(st.used + st.reserved, st.capacity))], [frac(st.reserved, st.capacity), 'res']]),
        h('span', { class: 'val', text: `${bytes(st.used)} / ${bytes(st.capacity)}` })),
      h('div', { class: 'meter' }, h('span', { class: 'name', text: 'Reserved' }), bar([[frac(st.reserved, st.capacity), 'res']]),
        h('span', { class: 'val', text: bytes(st.reserved) })),
      h('p', { class: 'muted', text: `${num(st.paths)} paths (${num(st.healthy)} healthy) · ${num(st.sectors)} sectors · ${bytes(st.available)} free` }));
    stages($('#ov-pipeline'), o.sectors);
    const chips = (list) => (list.length ? list.map((c) => {
      const i = h('i'); i.style.background = taskColor(c.task);
      return h('span', { class: 'chip' }, i, c.task, h('b', { text: num(c.count) }));
    }) : h('span', { class: 'muted', text: 'none' }));
    clear($('#ov-running'), chips(o.running));
    clear($('#ov-queue'), chips(q.byTask));
  }

  // ---------- workers ----------
  async function loadWorkers() {
    const p = S.wk;
    p.data = await api(`/api/workers?offset=${p.offset}&limit=${p.limit}&q=${encodeURIComponent(p.q)}`);
    renderWorkers();
  }
  function renderWorkers() {
    const d = S.wk.data;
    if (!d) return;
    pager($('#wk-pager'), S.wk, d.total, loadWorkers);
    const rows = d.workers.map((w) => h('tr', { data: { id: w.id } },
      h('td', { class: 'host' }, w.hostname, h('small', { text: w.id })),
      h('td', null, h('span', { class: 'status' + (w.enabled ? '' : ' off'), text: w.enabled ? 'enabled' : 'disabled' })),
      h('td', null, (w.tasks || []).map(tagEl)),
      h('td', null, cellBar(w.cpuUsed, w.cpuTotal, num)),
      h('td', null, cellBar(w.memUsed, w.memTotal, bytes)),
      h('td', null, cellBar(w.gpuUsed, w.gpuTotal, (n) => num(Math.round(n * 10) / 10))),
      h('td', null, (w.jobs || []).length ? w.jobs.map((j) => h('div', { class: 'mono', title: `${j.state} since ${stamp(ms(j.start))}` },
        tagEl(j.task), j.sector, h('span', { class: 'muted', text: ' · ' + dur((now() - ms(j.start)) / 1000) })))
        : h('span', { class: 'muted', text: 'idle' }))));
    clear($('#wk-table tbody'), rows.length ? rows : h('tr', null, h('td', { class: 'empty', colspan: 7, text: 'No workers match.' })));
  }

  // ---------- timeline ----------
  const tlWindow = () => {
    const to = S.tl.to || now();
    return [to - S.tl.hours * 3600e3, to];
  };
  async function loadTimeline() {
    const p = S.tl;
    const [from, to] = tlWindow();
    const px = Math.max(900, $('#tl-chart').clientWidth) - 194;
    // long windows hold many jobs per worker: show fewer workers per page so a page stays small
    p.limit = p.hours > 72 ? 20 : 40;
    const d = await api(`/api/timeline?from=${Math.floor(from)}&to=${Math.ceil(to)}&offset=${p.offset}&limit=${p.limit}&px=${px}&q=${encodeURIComponent(p.q)}`);
    skew = ms(d.now) - Date.now();
    p.data = d;
    p.jobs = new Map(d.jobs.map((j) => [j.id, j]));
    p.lanes = new Set(d.lanes.map((l) => l.id));
    renderTimeline();
  }
  const tickSteps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);
  function renderTimeline() {
    const p = S.tl, d = p.data;
    if (!d) return;
    pager($('#tl-pager'), p, d.total, loadTimeline);
    document.querySelectorAll('#tl-window button').forEach((b) => b.classList.toggle('on', +b.dataset.h === p.hours));
    $('#tl-now').classList.toggle('on', !p.to);
    const endInput = $('#tl-end');
    if (document.activeElement !== endInput) endInput.value = localInput(tlWindow()[1]);
    const [from, to] = tlWindow();
    const el = $('#tl-chart');
    const n = now();
    // pack each lane: jobs that overlap in time go to separate sub-rows so that none hides another
    const subH = 16, gap = 3, pad = 5, maxSub = 8;
    const byLane = new Map(d.lanes.map((l) => [l.id, []]));
    for (const j of p.jobs.values()) if (byLane.has(j.worker)) byLane.get(j.worker).push(j);
    // jobs are in the compact form: q, s, e in Unix ms (0: not reached)
    const rowOf = new Map(), laneTop = [], laneH = [];
    const W = Math.max(900, el.clientWidth), labelW = 180, top = 30, right = 14;
    let y0 = top;
    d.lanes.forEach((l, i) => {
      const ends = [];
      byLane.get(l.id).sort((a, b) => a.q - b.q).forEach((j) => {
        let r = ends.findIndex((e) => e <= j.q);
        if (r < 0) r = ends.length < maxSub ? ends.length : ends.indexOf(Math.min(...ends));
        ends[r] = j.e || n;
        rowOf.set(j.id, r);
      });
      laneTop[i] = y0;
      laneH[i] = pad * 2 + Math.max(1, ends.length) * (subH + gap) - gap;
      y0 += laneH[i];
    });
    const H = y0 + 8;
    const x = (t) => labelW + ((t - from) / (to - from)) * (W - labelW - right);
    const step = tickSteps.find((s) => (to - from) / s <= 10) || 86400e3;
    const root = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'jobs timeline' });
    const defs = svg('defs');
    const hatch = {};
    const pattern = (task) => {
      if (!hatch[task]) {
        hatch[task] = 'hatch-' + task.replace(/\W/g, '_');
        defs.append(svg('pattern', { id: hatch[task], width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
          svg('rect', { width: 6, height: 6, fill: taskColor(task), 'fill-opacity': 0.12 }),
          svg('rect', { width: 2, height: 6, fill: taskColor(task), 'fill-opacity': 0.55 })));
      }
      return `url(#${hatch[task]})`;
    };
    root.append(defs);
    const lanes = svg('g', { class: 'lanes' });
    const lane = new Map();
    d.lanes.forEach((l, i) => {
      lane.set(l.id, i);
      if (i % 2 === 0) lanes.append(svg('rect', { class: 'lane-bg', x: 0, y: laneTop[i], width: W, height: laneH[i] }));
      const name = l.hostname.length > 24 ? l.hostname.slice(0, 23) + '…' : l.hostname;
      lanes.append(svg('text', { class: 'lane-label', x: 12, y: laneTop[i] + pad + 12 }, name, svg('title', null, `${l.hostname} (${l.id})`)));
    });
    root.append(lanes);
    const grid = svg('g', { class: 'grid' }), axis = svg('g', { class: 'axis' });
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      grid.append(svg('line', { x1: x(t), x2: x(t), y1: top - 4, y2: H }));
      const label = step >= 86400e3 ? new Date(t).toLocaleDateString([], { month: 'short', day: 'numeric' }) : clock(t);
      if (x(t) < W - right - 24) axis.append(svg('text', { x: x(t), y: 18, 'text-anchor': 'middle' }, label));
    }
    root.append(grid, axis);
    const jobs = svg('g', { class: 'jobs' });
    for (const j of p.jobs.values()) {
      const li = lane.get(j.worker);
      if (li == null) continue;
      const y = laneTop[li] + pad + rowOf.get(j.id) * (subH + gap), hgt = subH;
      const q = Math.max(j.q, from), st = j.s, end = j.e || n;
      const g = svg('g', { class: 'job', data: { task: j.task, id: j.id, sector: j.sector } });
      const started = st && st <= n;
      const waitEnd = Math.min(started ? st : n, to);
      if (waitEnd > q) g.append(svg('rect', { class: 'wait', x: x(q), y, width: Math.max(1, x(waitEnd) - x(q)), height: hgt, rx: 2, fill: pattern(j.task) }));
      if (started) {
        const a = Math.max(st, from), b = Math.min(end, to);
        if (b > a) g.append(svg('rect', { class: 'run', x: x(a), y, width: Math.max(1.5, x(b) - x(a)), height: hgt, rx: 3, fill: taskColor(j.task),
          stroke: j.failed ? 'var(--bad)' : 'none', 'stroke-width': 2 }));
        if (b > a && x(b) - x(a) > 34) g.append(svg('text', { class: 'job-label', x: x(a) + 5, y: y + hgt - 4.5, 'pointer-events': 'none' }, j.task));
      }
      g.addEventListener('mousemove', (ev) => showTip(ev, j));
      g.addEventListener('mouseleave', hideTip);
      jobs.append(g);
    }
    root.append(jobs);
    if (n >= from && n <= to) root.append(svg('g', { class: 'now' }, svg('line', { x1: x(n), x2: x(n), y1: top - 6, y2: H })));
    clear(el, d.lanes.length ? root : h('p', { class: 'muted', style: { padding: '24px' }, text: 'No workers.' }));
    if (d.truncated) el.append(h('p', { class: 'muted', text: 'Too many jobs in this window: showing the first 10,000. Choose a shorter window or fewer workers.' }));
    if (d.minSpanMs >= 60e3) el.append(h('p', { class: 'muted note', text: `Jobs shorter than ${dur(d.minSpanMs / 1000)} (one pixel) are not drawn; choose a shorter window to see them.` }));
  }
  function showTip(ev, j) {
    const tip = $('#tl-tip');
    const q = j.q, st = j.s, end = j.e || now();
    clear(tip, h('b', null, `${j.task} · ${j.sector}`),
      h('div', { class: 'muted', text: `queued ${stamp(q)}` }),
      h('div', null, `waited ${dur(((st || now()) - q) / 1000)}`),
      st ? h('div', null, `${j.e ? 'ran' : 'running'} ${dur((end - st) / 1000)}`) : null,
      j.failed ? h('div', { class: 'error', text: j.msg || 'failed' }) : null);
    tip.hidden = false;
    tip.style.left = Math.min(ev.clientX + 14, innerWidth - 330) + 'px';
    tip.style.top = ev.clientY + 14 + 'px';
  }
  const hideTip = () => { $('#tl-tip').hidden = true; };
  // localInput formats a time for a datetime-local input (local time, minutes)
  function localInput(t) {
    const d = new Date(t), pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function renderLegend() {
    clear($('#tl-legend'), ['AP', 'PC1', 'PC2', 'C1', 'C2', 'FIN', 'GET'].map((t) => {
      const i = h('i'); i.style.background = taskColor(t);
      return h('span', null, i, t);
    }), h('span', null, h('i', { class: 'wait' }), 'waiting (queued → started)'));
  }

  // ---------- sectors ----------
  async function loadSectors() {
    const p = S.sc;
    p.data = await api(`/api/sectors?state=${encodeURIComponent(p.state)}&offset=${p.offset}&limit=${p.limit}`);
    renderSectors();
  }
  function renderSectorStates() {
    if (!S.ov) return;
    stages($('#sc-states'), S.ov.sectors, { sel: S.sc.state, all: S.ov.sectorsTotal,
      onpick: (state) => { S.sc.state = state; S.sc.offset = 0; renderSectorStates(); loadSectors(); } });
  }
  function sectorRow(s) {
    return h('tr', { class: 'click' + (s.id === S.sc.sel ? ' sel' : ''), data: { id: s.id }, onclick: () => selectSector(s.id) },
      h('td', { class: 'mono', text: s.id }),
      h('td', { class: 'state' }, h('span', { class: 'status' + (s.failed ? ' bad' : s.state === 'Proving' ? '' : /^Wait/.test(s.state) ? ' off' : ' run'), text: s.state })),
      h('td', { class: 'muted', title: stamp(ms(s.updated)), text: ago(s.updated) }));
  }
  function renderSectors() {
    const d = S.sc.data;
    renderSectorStates();
    if (!d) return;
    pager($('#sc-pager'), S.sc, d.total, loadSectors);
    clear($('#sc-table tbody'), d.sectors.length ? d.sectors.map(sectorRow) : h('tr', null, h('td', { class: 'empty', colspan: 3, text: 'No sectors in this state.' })));
  }
  async function selectSector(id) {
    S.sc.sel = id;
    document.querySelectorAll('#sc-table tbody tr').forEach((tr) => tr.classList.toggle('sel', tr.dataset.id === id));
    const d = await api(`/api/sectors/${encodeURIComponent(id)}/events`);
    S.sc.events = d.events;
    renderEvents();
  }
  function renderEvents() {
    const ev = S.sc.events || [];
    clear($('#sc-detail'), h('h2', null, 'Event log · ', h('span', { class: 'mono', text: S.sc.sel })),
      h('ol', { class: 'events', id: 'sc-events' }, ev.slice().reverse().map((e) => h('li', { class: e.failed ? 'err' : '' },
        h('div', null, e.from ? `${e.from} → ` : '', h('b', { text: e.to })),
        h('div', { class: 'when', text: stamp(ms(e.time)) }),
        e.message ? h('div', { class: 'msg', text: e.message }) : null))));
  }
  function onSector(c) {
    if (S.ov) {
      const bump = (state, by) => {
        if (!state) return;
        let sc = S.ov.sectors.find((x) => x.state === state);
        if (!sc) { sc = { state, count: 0 }; S.ov.sectors.push(sc); }
        sc.count += by;
      };
      bump(c.from, -1); bump(c.to, +1);
      if (!c.from) S.ov.sectorsTotal++;
    }
    if (S.view === 'overview') later('ov', renderOverview, 250);
    if (S.view !== 'sectors') return;
    later('sc-states', renderSectorStates, 250);
    const d = S.sc.data;
    const row = d && d.sectors.find((s) => s.id === c.sector);
    if (row) {
      Object.assign(row, { state: c.to, updated: c.time, failed: !!c.message });
      const tr = $(`#sc-table tbody tr[data-id="${CSS.escape(c.sector)}"]`);
      if (tr) tr.replaceWith(sectorRow(row));
    }
    // the page's membership changed (a new sector, or one left the filtered state): re-read this page only
    if ((!row && (!S.sc.state || S.sc.state === c.to)) || (row && S.sc.state && S.sc.state !== c.to)) later('sc-page', loadSectors, 500);
    if (c.sector === S.sc.sel && S.sc.events) {
      S.sc.events.push({ time: c.time, from: c.from, to: c.to, message: c.message, failed: !!c.message });
      renderEvents();
    }
  }

  // ---------- storage ----------
  async function loadStorage() {
    S.st.data = await api('/api/storage');
    renderStorage();
  }
  function renderStorage() {
    const d = S.st.data;
    if (!d) return;
    const s = d.summary;
    clear($('#st-summary'), h('div', { class: 'meter' }, h('span', { class: 'name', text: 'All paths' }),
      bar([[frac(s.used, s.capacity), level(frac(s.used + s.reserved, s.capacity))], [frac(s.reserved, s.capacity), 'res']]),
      h('span', { class: 'val', text: `${bytes(s.used)} / ${bytes(s.capacity)}` })),
    h('p', { class: 'muted', text: `${num(s.paths)} paths · ${num(s.sectors)} sectors · ${bytes(s.reserved)} reserved · ${bytes(s.available)} free` }));
    clear($('#st-table tbody'), d.paths.map((p) => h('tr', { data: { id: p.id } },
      h('td', { class: 'host' }, `${p.host}:${p.path}`, h('small', { text: p.id })),
      h('td', null, p.canSeal ? tagEl('seal') : null, p.canStore ? tagEl('store') : null),
      h('td', null, h('div', { class: 'cell-bar' }, bar([[frac(p.used, p.capacity), level(frac(p.used + p.reserved, p.capacity))], [frac(p.reserved, p.capacity), 'res']]),
        h('small', { text: `${bytes(p.used)} used${p.reserved ? ' + ' + bytes(p.reserved) + ' reserved' : ''} of ${bytes(p.capacity)}` }))),
      h('td', { class: 'num', text: bytes(p.available) }),
      h('td', { class: 'num', text: num(p.sectors) }),
      h('td', null, h('span', { class: 'status' + (p.healthy ? '' : ' bad'), text: p.healthy ? 'healthy' : (p.err || 'unhealthy') })))));
  }

  // ---------- queue ----------
  async function loadQueue() {
    const p = S.qu;
    p.data = await api(`/api/queue?offset=${p.offset}&limit=${p.limit}`);
    renderQueue();
  }
  function renderQueue() {
    const d = S.qu.data;
    if (!d) return;
    pager($('#qu-pager'), S.qu, d.summary.rows ?? d.summary.total, loadQueue);
    clear($('#qu-summary'), d.summary.byTask.map((c) => { const i = h('i'); i.style.background = taskColor(c.task); return h('span', { class: 'chip' }, i, c.task, h('b', { text: num(c.count) })); }));
    const reason = (g) => h('div', { class: 'reason', title: g.workers.join(', ') + (g.count > g.workers.length ? ', …' : '') },
      h('b', { text: num(g.count) + ' ×' }), ' ', g.reason, h('span', { text: ' — ' + g.workers.slice(0, 3).join(', ') + (g.count > 3 ? ', …' : '') }));
    clear($('#qu-table tbody'), d.requests.length ? d.requests.map((r) => h('tr', { data: { id: r.id } },
      h('td', null, tagEl(r.task)), h('td', { class: 'mono', text: r.count > 1 ? `${r.sector} + ${num(r.count - 1)} alike` : r.sector }),
      h('td', { class: 'num waited', data: { queued: ms(r.queued) }, text: dur((now() - ms(r.queued)) / 1000) }),
      h('td', null, h('div', { class: 'reasons' }, r.reasons.slice(0, 3).map(reason),
        r.reasons.length > 3 ? h('details', null, h('summary', { text: `${r.reasons.length - 3} more reasons` }), r.reasons.slice(3).map(reason)) : null,
        perWorker(r))))) :
      h('tr', null, h('td', { class: 'empty', colspan: 4, text: 'The queue is empty.' })));
  }

  // perWorker is a collapsed list of every worker's reason for one request, fetched when opened.
  function perWorker(r) {
    const box = h('div', { class: 'per-worker' });
    const d = h('details', { class: 'per-worker-toggle' }, h('summary', { text: 'reasons per worker' }), box);
    d.addEventListener('toggle', () => {
      if (!d.open || box.childElementCount) return;
      api(`/api/queue/${encodeURIComponent(r.id)}`).then((v) => {
        clear(box, h('table', { class: 'mini' }, h('tbody', null, v.rejections.map((x) => h('tr', null,
          h('td', { class: 'mono', text: x.worker }), h('td', { text: x.reason }))))));
      }, (err) => clear(box, h('span', { class: 'muted', text: String(err.message || err) })));
    });
    return d;
  }

  // ---------- routing and live updates ----------
  const loaders = { overview: async () => { S.ov = await api('/api/overview'); skew = ms(S.ov.time) - Date.now(); renderOverview(); },
    workers: loadWorkers, timeline: loadTimeline, sectors: async () => { if (!S.ov) S.ov = await api('/api/overview'); await loadSectors(); },
    storage: loadStorage, queue: loadQueue };
  function show(view) {
    if (!loaders[view]) view = 'overview';
    S.view = view;
    document.querySelectorAll('.view').forEach((v) => { v.hidden = v.id !== 'view-' + view; });
    document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.view === view));
    loaders[view]().catch(report);
  }
  function report(err) { console.error(err); }

  function connect() {
    const live = $('#live');
    const es = new EventSource('/api/events');
    let opened = false;
    es.onopen = () => {
      live.className = 'live on'; live.textContent = 'live';
      if (opened) show(S.view); // reconnected: changes may have been missed while away
      opened = true;
    };
    es.onerror = () => {
      live.className = 'live off'; live.textContent = 'reconnecting';
      if (es.readyState === EventSource.CLOSED) { api('/api/overview').then(() => setTimeout(connect, 3000), report); }
    };
    const on = (name, fn) => es.addEventListener(name, (e) => { try { fn(JSON.parse(e.data)); } catch (err) { report(err); } });
    on('tick', (o) => {
      S.ov = o; skew = ms(o.time) - Date.now();
      live.textContent = 'live · ' + clock(ms(o.time));
      if (S.view === 'overview') renderOverview();
      if (S.view === 'sectors') renderSectors(); // refreshes the counts and the rows' ages
      if (S.view === 'workers') renderWorkers(); // the jobs' ages
      if (S.view === 'timeline' && !S.tl.to) renderTimeline();
      if (S.view === 'queue') { // only the ages: a re-render would close the open per-worker lists
        document.querySelectorAll('#qu-table td.waited').forEach((td) => { td.textContent = dur((now() - +td.dataset.queued) / 1000); });
      }
    });
    on('sector', onSector);
    on('job', (c) => {
      const j = c.job;
      if (S.view === 'timeline' && j && S.tl.lanes.has(j.worker)) {
        S.tl.jobs.set(j.id, { id: j.id, task: j.task, worker: j.worker, sector: j.sector, q: ms(j.queued), s: ms(j.start), e: ms(j.end), failed: j.failed, msg: j.message });
        later('tl', renderTimeline, 200);
      }
      if (S.view === 'workers') later('wk', loadWorkers, 1000);
    });
    on('worker', () => { if (S.view === 'workers') later('wk', loadWorkers, 1000); });
    on('storage', () => { if (S.view === 'storage') later('st', loadStorage, 1000); });
    on('queue', () => { if (S.view === 'queue') later('qu', loadQueue, 1000); });
    on('resync', () => show(S.view));
  }

  function init() {
    $('#wk-filter').addEventListener('input', (e) => { S.wk.q = e.target.value.trim(); S.wk.offset = 0; later('wkq', loadWorkers, 200); });
    document.querySelectorAll('#tl-window button').forEach((b) => b.addEventListener('click', () => { S.tl.hours = +b.dataset.h; loadTimeline().catch(report); }));
    const pan = (dir) => { const [, to] = tlWindow(); S.tl.to = to + dir * S.tl.hours * 3600e3 / 2; if (S.tl.to >= now()) S.tl.to = 0; loadTimeline().catch(report); };
    $('#tl-back').addEventListener('click', () => pan(-1));
    $('#tl-fwd').addEventListener('click', () => pan(1));
    $('#tl-now').addEventListener('click', () => { S.tl.to = 0; loadTimeline().catch(report); });
    $('#tl-end').addEventListener('change', (e) => {
      const t = Date.parse(e.target.value); // datetime-local values parse as local time
      if (Number.isNaN(t)) return;
      S.tl.to = t >= now() ? 0 : t;
      loadTimeline().catch(report);
    });
    $('#tl-filter').addEventListener('input', (e) => { S.tl.q = e.target.value.trim(); S.tl.offset = 0; later('tlq', () => loadTimeline().catch(report), 200); });
    addEventListener('resize', () => { if (S.view === 'timeline') later('tl', renderTimeline, 150); });
    addEventListener('hashchange', () => show(location.hash.slice(1)));
    renderLegend();
    show(location.hash.slice(1) || 'overview');
    connect();
  }
  init();
})();
