// The console page: polls /api/state, renders the five panels, posts actions with the CSRF token.
import { lineChart, usageBars } from './charts.js';

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const POLL_MS = 3000;
const esc = (s) =>
  s === null || s === undefined
    ? ''
    : String(s).replace(
        /[&<>"']/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
      );
const pct = (x, d = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(d)}%`;
const num = (x) => (x === null || x === undefined ? '–' : Number(x).toLocaleString('en-US'));
const ago = (iso) => {
  if (!iso) return '–';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${fmtDur(-s)}`;
  return `${fmtDur(s)} ago`;
};
const fmtDur = (s) =>
  s < 90
    ? `${s}s`
    : s < 5400
      ? `${Math.round(s / 60)}m`
      : s < 172800
        ? `${Math.round(s / 3600)}h`
        : `${Math.round(s / 86400)}d`;
const axis = (v) => (v >= 10 ? String(Math.round(v)) : String(Number(v.toFixed(2))));
const time = (iso) => (iso ? new Date(iso).toLocaleString([], { hour12: false }) : '–');
const pill = (s, cls = s) => `<span class="pill ${esc(cls)}">${esc(s)}</span>`;
const btn = (action, label, data, cls = '', confirmText = '') =>
  `<button class="${cls}" data-action="${esc(action)}" data-body="${esc(JSON.stringify(data))}"${confirmText ? ` data-confirm="${esc(confirmText)}"` : ''}>${esc(label)}</button>`;

let latest = null;
const openDetails = new Set();
const chosen = new Map();

function toast(message, error = false) {
  const el = document.createElement('div');
  el.className = error ? 'err' : '';
  el.textContent = message;
  const box = document.getElementById('toast');
  box.append(el);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => el.remove(), error ? 9000 : 4000);
}

function panelError(p) {
  return p && p.error !== undefined ? `<div class="error-box">Could not load: ${esc(p.error)}</div>` : null;
}

// ---- circuit breakers ----------------------------------------------------------------------------------------
function renderBreakers(p, series) {
  const err = panelError(p);
  if (err) return err;
  const open = p.rows.filter((b) => b.state !== 'CLOSED').length;
  badge('breakers', open, open ? 'bad' : '');
  const cards = `<div class="cards">
    <div class="card"><div class="label">breakers</div><div class="value">${p.rows.length}</div><div class="sub">every breaker and scope, fleet-wide</div></div>
    <div class="card"><div class="label">open / isolated</div><div class="value" style="color:${open ? 'var(--bad)' : 'var(--ok)'}">${open}</div><div class="sub">${p.rows.filter((b) => b.isolated).length} isolated</div></div>
    <div class="card"><div class="label">transitions</div><div class="value">${num(p.rows.reduce((a, b) => a + b.transitions, 0))}</div><div class="sub">written fleet-wide</div></div>
  </div>`;
  if (!p.rows.length)
    return `<h2>Circuit breakers</h2>${cards}<div class="box empty">No breaker has stored state yet.</div>`;
  const rows = p.rows
    .map((b) => {
      const data = { name: b.name, scope: b.scope };
      const actions = [
        b.state !== 'CLOSED' ? btn('breaker.reset', 'reset', data, 'primary') : '',
        !b.isolated
          ? btn(
              'breaker.isolate',
              'isolate',
              data,
              'danger',
              `Isolate ${b.name}${b.scope ? ` (${b.scope})` : ''}? Every execution will fail fast until reset.`,
            )
          : '',
      ].join('');
      const rate = (x, warnAt) =>
        x === null
          ? '<span class="muted">–</span>'
          : `<span style="color:${x >= warnAt ? 'var(--bad)' : 'inherit'}">${pct(x)}</span>`;
      return `<tr data-breaker="${esc(b.name)}|${esc(b.scope ?? '')}" data-state="${esc(b.state)}">
        <td><b>${esc(b.name)}</b></td><td>${b.scope ? `<code>${esc(b.scope)}</code>` : '<span class="muted">global</span>'}</td>
        <td>${pill(b.state)}</td><td title="${esc(b.since)}">${ago(b.since)}</td>
        <td>${b.openUntil ? `${time(b.openUntil)} <span class="muted">(${ago(b.openUntil)})</span>` : '<span class="muted">–</span>'}</td>
        <td class="num">${num(b.calls)}</td><td class="num">${rate(b.failureRate, 0.5)}</td><td class="num">${rate(b.slowRate, 0.5)}</td>
        <td class="num">${num(b.transitions)}</td><td class="num">${num(b.reopenCount)}</td>
        <td class="muted" style="max-width:260px">${esc(b.reason ?? '')}</td><td>${actions}</td></tr>`;
    })
    .join('');
  const palette = ['#58a6ff', '#a371f7', '#3fb950', '#d29922', '#f778ba', '#79c0ff'];
  const keys = p.rows.slice(0, 6).map((b) => `${b.name}|${b.scope ?? ''}`);
  const chart = lineChart({
    title: 'breaker failure rates',
    width: 1300,
    height: 170,
    series: [
      ...keys.map((k, i) => ({
        name: `${k.replace(/\|$/, '')} failure rate (%)`,
        color: palette[i],
        points: series
          .filter((x) => x.breakerFailureRate[k] !== undefined)
          .map((x) => [x.at, (x.breakerFailureRate[k] ?? 0) * 100]),
      })),
      { name: 'open breakers', color: '#f85149', points: series.map((x) => [x.at, x.openBreakers]) },
    ],
    format: axis,
  });
  return `<h2>Circuit breakers</h2>${cards}<div class="box"><h3 style="margin-top:0">Failure rate in window, and open breakers</h3>${chart}</div><div class="box"><table id="breakers-table"><thead><tr>
    <th>breaker</th><th>scope</th><th>state</th><th>since</th><th>open until</th><th class="num">calls in window</th>
    <th class="num">failure rate</th><th class="num">slow rate</th><th class="num">transitions</th><th class="num">re-opens</th><th>reason</th><th></th>
    </tr></thead><tbody>${rows}</tbody></table>${p.truncated ? '<div class="muted">more breakers stored than shown</div>' : ''}</div>`;
}

// ---- job queue ------------------------------------------------------------------------------------------------
function jobRow(j, kind) {
  const actions =
    kind === 'dead'
      ? btn('job.redrive', 'redrive', { jobId: j.id }, 'primary')
      : btn('job.cancel', 'cancel', { jobId: j.id }, 'danger', `Cancel job ${j.id}?`);
  const hist = j.history.length
    ? `<details data-key="h-${esc(j.id)}"><summary>${j.history.length} attempt${j.history.length > 1 ? 's' : ''}</summary><ol class="history">${j.history
        .map(
          (h) =>
            `<li>${esc(h.outcome)} · ${time(h.endedAt)}${h.error ? ` · <span style="color:var(--bad)">${esc(h.error)}</span>` : ''}</li>`,
        )
        .join('')}</ol></details>`
    : '<span class="muted">–</span>';
  return `<tr data-job="${esc(j.id)}" data-status="${esc(j.status)}"><td><code>${esc(j.id)}</code>${j.traceId ? `<div class="muted mono" title="trace id">trace ${esc(j.traceId)}</div>` : ''}</td>
    <td>${esc(j.type)}</td><td><code>${esc(j.orgId)}</code></td><td>${pill(j.status)}</td><td class="num">${j.attempts}/${j.maxRetries + 1}</td>
    <td title="${esc(j.runAt)}">${ago(j.runAt)}</td><td class="muted" style="max-width:300px">${esc(j.lastError ?? '')}</td><td>${hist}</td><td>${actions}</td></tr>`;
}

function renderJobs(p, series) {
  const err = panelError(p);
  if (err) return err;
  const m = p.metrics;
  badge('jobs', m.depth.DEAD_LETTER, m.depth.DEAD_LETTER ? 'bad' : '');
  const types = Object.keys(m.depthByType).sort();
  const statuses = ['PENDING', 'RETRYING', 'PROCESSING', 'DEAD_LETTER'];
  const depthTable = types.length
    ? `<table id="depth-table"><thead><tr><th>type</th>${statuses.map((s) => `<th class="num">${s.toLowerCase()}</th>`).join('')}</tr></thead><tbody>${types
        .map(
          (t) =>
            `<tr data-type="${esc(t)}"><td>${esc(t)}</td>${statuses.map((s) => `<td class="num">${num(m.depthByType[t][s] ?? 0)}</td>`).join('')}</tr>`,
        )
        .join('')}</tbody></table>`
    : '<div class="empty">The queue is empty.</div>';
  const pts = (f) => series.map((s) => [s.at, f(s)]);
  const depthChart = lineChart({
    title: 'queue depth',
    series: [
      { name: 'waiting', color: '#58a6ff', points: pts((s) => s.waiting), fill: true },
      { name: 'running', color: '#a371f7', points: pts((s) => s.running) },
      { name: 'dead letters', color: '#f85149', points: pts((s) => s.dead) },
    ],
    format: axis,
  });
  const rateChart = lineChart({
    title: 'throughput and failures',
    series: [
      {
        name: 'completed / min (1 h)',
        color: '#3fb950',
        points: pts((s) => s.throughputPerMinute),
        fill: true,
      },
      {
        name: 'failed or dead-lettered / min (1 h)',
        color: '#f85149',
        points: pts((s) => s.failedPerMinute),
      },
    ],
    format: axis,
  });
  return `<h2>Job queue</h2><div class="cards">
    <div class="card"><div class="label">waiting</div><div class="value">${num(m.depth.PENDING + m.depth.RETRYING)}</div><div class="sub">${num(m.due)} due now</div></div>
    <div class="card"><div class="label">oldest due</div><div class="value">${m.oldestDueAgeMs === null ? '–' : fmtDur(Math.round(m.oldestDueAgeMs / 1000))}</div><div class="sub">age of the oldest due job</div></div>
    <div class="card"><div class="label">running</div><div class="value">${num(m.depth.PROCESSING)}</div></div>
    <div class="card"><div class="label">dead letters</div><div class="value" style="color:${m.depth.DEAD_LETTER ? 'var(--bad)' : 'inherit'}">${num(m.depth.DEAD_LETTER)}</div></div>
    <div class="card"><div class="label">throughput (1 h)</div><div class="value">${m.throughputPerMinute.toFixed(2)}</div><div class="sub">completed / min · failures ${pct(m.failureRate)}</div></div>
    <div class="card"><div class="label">latency p95 (1 h)</div><div class="value">${m.totalLatencyMs.p95 === null ? '–' : `${(m.totalLatencyMs.p95 / 1000).toFixed(1)}s`}</div><div class="sub">enqueue → done</div></div>
  </div>
  <div class="grid2"><div class="box"><h3 style="margin-top:0">Queue depth</h3>${depthChart}</div><div class="box"><h3 style="margin-top:0">Throughput and failures</h3>${rateChart}</div></div>
  <div class="box"><h3 style="margin-top:0">Depth by type and status</h3>${depthTable}</div>
  <div class="box"><h3 style="margin-top:0">Dead letters</h3>${
    p.deadLetters.length
      ? `<table id="dead-table"><thead><tr><th>job</th><th>type</th><th>org</th><th>status</th><th class="num">attempts</th><th>run at</th><th>last error</th><th>history</th><th></th></tr></thead><tbody>${p.deadLetters.map((j) => jobRow(j, 'dead')).join('')}</tbody></table>`
      : '<div class="empty" id="dead-empty">No dead letters.</div>'
  }</div>
  <div class="box"><h3 style="margin-top:0">Waiting and running (oldest due first)</h3>${
    p.waiting.length
      ? `<table id="waiting-table"><thead><tr><th>job</th><th>type</th><th>org</th><th>status</th><th class="num">attempts</th><th>run at</th><th>last error</th><th>history</th><th></th></tr></thead><tbody>${p.waiting.map((j) => jobRow(j, 'waiting')).join('')}</tbody></table>`
      : '<div class="empty">Nothing waiting.</div>'
  }</div>`;
}

// ---- quotas ---------------------------------------------------------------------------------------------------
function renderQuotas(p) {
  const err = panelError(p);
  if (err) return err;
  badge('quotas', p.pending.length, p.pending.length ? 'warn' : '');
  const rows = [...p.rows].sort((a, b) => b.percent - a.percent);
  const bars = rows.length
    ? usageBars(
        rows.slice(0, 16).map((r) => ({
          label: `${r.orgId} · ${r.quotaType}`,
          value: r.used,
          max: r.limit,
          note: `${num(r.used)} / ${num(r.limit)}`,
        })),
        { width: 1300 },
      )
    : '<div class="empty">No usage recorded yet.</div>';
  const table = rows.length
    ? `<table id="usage-table"><thead><tr><th>organization</th><th>plan</th><th>quota</th><th>window</th><th class="num">used</th><th class="num">limit</th><th>usage</th><th>resets</th><th class="num">increase</th></tr></thead><tbody>${rows
        .map((r) => {
          const f = r.limit > 0 ? r.used / r.limit : 0;
          return `<tr data-quota="${esc(r.orgId)}|${esc(r.quotaType)}"><td><code>${esc(r.orgId)}</code></td><td>${esc(r.plan)}</td><td>${esc(r.quotaType)}${r.shadow ? ' <span class="pill warn">shadow</span>' : ''}</td><td>${esc(r.window)}</td>
          <td class="num">${num(r.used)}</td><td class="num" data-limit>${num(r.limit)}</td>
          <td><span class="bar ${f >= 1 ? 'bad' : f >= 0.8 ? 'warn' : ''}"><i style="width:${Math.min(100, f * 100).toFixed(1)}%"></i></span>${r.percent.toFixed(0)}%</td>
          <td title="${esc(r.resetsAt ?? '')}">${r.resetsAt ? ago(r.resetsAt) : '<span class="muted">gauge</span>'}</td><td class="num">${r.increase ? `+${num(r.increase)}` : '–'}</td></tr>`;
        })
        .join('')}</tbody></table>`
    : '';
  const pending = p.pending.length
    ? `<table id="requests-table"><thead><tr><th>request</th><th>organization</th><th>quota</th><th class="num">amount</th><th>duration</th><th>reason</th><th>requested</th><th></th></tr></thead><tbody>${p.pending
        .map(
          (
            r,
          ) => `<tr data-request="${esc(r.id)}"><td><code>${esc(r.id)}</code></td><td><code>${esc(r.orgId)}</code></td><td>${esc(r.quotaType)}</td><td class="num">+${num(r.amount)}</td>
          <td>${r.durationDays === null ? 'permanent' : `${r.durationDays} d`}</td><td class="muted">${esc(r.reason)}</td><td>${ago(r.createdAt)}${r.requestedBy ? ` by <code>${esc(r.requestedBy)}</code>` : ''}</td>
          <td>${btn('increase.approve', 'approve', { requestId: r.id, orgId: r.orgId }, 'primary')}${btn('increase.reject', 'reject', { requestId: r.id, orgId: r.orgId }, 'danger', `Reject request ${r.id}?`)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<div class="empty" id="requests-empty">No pending increase requests.</div>';
  const orgs = new Set(p.rows.map((r) => r.orgId));
  return `<h2>Quotas</h2><div class="cards">
    <div class="card"><div class="label">organizations</div><div class="value">${orgs.size}</div><div class="sub">with usage</div></div>
    <div class="card"><div class="label">at or over 80 %</div><div class="value" style="color:${rows.some((r) => r.percent >= 80) ? 'var(--warn)' : 'inherit'}">${rows.filter((r) => r.percent >= 80).length}</div><div class="sub">quota windows</div></div>
    <div class="card"><div class="label">pending requests</div><div class="value">${p.pending.length}</div><div class="sub">waiting for a decision</div></div>
  </div>
  <div class="box"><h3 style="margin-top:0">Pending increase requests</h3>${pending}</div>
  <div class="box"><h3 style="margin-top:0">Usage against limit</h3>${bars}</div>
  ${table ? `<div class="box">${table}</div>` : ''}`;
}

// ---- rollouts -------------------------------------------------------------------------------------------------
const STEPS = ['pending', 'building', 'validating', 'switching', 'watching', 'succeeded'];
function steps(view) {
  const bad = ['rolling_back', 'rolled_back', 'failed'].includes(view.status);
  const at = STEPS.indexOf(view.status);
  const reached = bad ? STEPS.indexOf(view.switchedAt ? 'watching' : 'validating') : at;
  return `<div class="steps">${STEPS.map((s, i) => {
    const cls =
      !bad && i === at && s !== 'succeeded' ? 'now' : i < reached || (!bad && i === at) ? 'done' : '';
    return `<span class="${cls}">${s}</span>`;
  }).join('')}${bad ? `<span class="bad">${esc(view.status.replace('_', ' '))}</span>` : ''}</div>`;
}

function renderRollouts(p) {
  const err = panelError(p);
  if (err) return err;
  const running = p.functions.filter((f) => f.latest && !f.latest.done).length;
  badge('rollouts', running, running ? 'warn' : '');
  if (!p.functions.length)
    return '<h2>Rollouts</h2><div class="box empty">No function with a standby twin.</div>';
  return `<h2>Rollouts</h2>${p.functions
    .map((f) => {
      const l = f.latest;
      const selId = `start-${f.functionId}`;
      const options = f.candidates
        .map((c) => `<option value="${esc(c.id)}">${esc(c.id)} · ${time(c.createdAt)}</option>`)
        .join('');
      const canRollback =
        l &&
        (l.status === 'succeeded' ||
          (!l.done && l.status !== 'rolling_back') ||
          (l.status === 'failed' && l.green.active));
      const start =
        l && !l.done
          ? '<span class="muted">a rollout is in progress</span>'
          : f.candidates.length
            ? `<select id="${esc(selId)}" data-keep="${esc(selId)}">${options}</select><label class="inline"><input type="checkbox" data-keep="force-${esc(f.functionId)}" id="force-${esc(f.functionId)}"> force (budget exhausted)</label><button class="primary" data-start="${esc(f.functionId)}">start rollout</button>`
            : '<span class="muted">no other ready deployment to roll out</span>';
      const history = f.history.length
        ? `<table class="rollout-history"><thead><tr><th>rollout</th><th>status</th><th>blue → green</th><th>started</th><th>finished</th><th class="num">watch samples</th><th class="num">errors</th><th class="num">p95</th><th>reason</th></tr></thead><tbody>${f.history
            .map(
              (
                h,
              ) => `<tr data-rollout="${esc(h.rolloutId)}" data-status="${esc(h.status)}"><td><code>${esc(h.rolloutId)}</code></td><td>${pill(h.status)}</td><td class="mono">${esc(h.blue.deploymentId ?? '–')} → ${esc(h.green.deploymentId ?? '–')}</td>
            <td>${time(h.startedAt)}</td><td>${time(h.finishedAt)}</td><td class="num">${h.watch ? num(h.watch.samples) : '–'}</td><td class="num">${h.watch ? `${h.watch.errors} (${pct(h.watch.errorRate)})` : '–'}</td>
            <td class="num">${h.watch ? `${Math.round(h.watch.p95LatencyMs)} ms` : '–'}</td><td class="muted" style="max-width:320px">${esc(h.reason ?? '')}</td></tr>`,
            )
            .join('')}</tbody></table>`
        : '<div class="empty">No rollout yet.</div>';
      return `<div class="box" data-function="${esc(f.functionId)}"><div class="fn-head"><h2>${esc(f.functionId)}</h2>
        <span>live ${pill(f.liveDeploymentId ?? 'none', 'active')}</span><span>standby <code>${esc(f.standbyFunctionId)}</code> ${pill(f.standbyDeploymentId ?? 'none', 'standby')}</span>
        <span class="actions">${start}${canRollback ? btn('rollout.rollback', 'roll back', { functionId: f.functionId }, 'danger', `Roll ${f.functionId} back to blue ${l.blue.deploymentId}?`) : ''}</span></div>
        ${
          l
            ? `<h3>Latest rollout <code>${esc(l.rolloutId)}</code> ${pill(l.status)}</h3>${steps(l)}
          <div class="events" data-events="${esc(f.functionId)}">${f.events.map((e) => `<div class="${esc(e.level)}">${time(e.at)} ${esc(e.status.padEnd(12))} ${esc(e.message)}</div>`).join('')}</div>`
            : ''
        }
        <h3>History</h3>${history}</div>`;
    })
    .join('')}`;
}

// ---- SLOs -----------------------------------------------------------------------------------------------------
function renderSlos(p, series, alerts, channels) {
  const err = panelError(p);
  if (err) return err;
  const firing = p.statuses.filter((s) => s.alerts.length).length;
  badge('slos', firing, firing ? 'bad' : '');
  const colors = ['#58a6ff', '#a371f7', '#3fb950', '#d29922'];
  const cards = p.statuses
    .map((s) => {
      const left = s.budgetRemaining;
      const color = left <= 0 ? 'var(--bad)' : left < 0.25 ? 'var(--warn)' : 'var(--ok)';
      const what =
        s.spec.kind === 'latency'
          ? `≤ ${s.spec.thresholdMs} ms for ${pct(s.spec.objective, 0)}`
          : `${pct(s.spec.objective, 2)} available`;
      return `<div class="card" data-slo="${esc(s.spec.id)}"><div class="label">${esc(s.spec.id)}</div><div class="value" style="color:${color}" data-budget>${pct(left)}</div>
        <div class="sub">error budget left · ${esc(what)} over ${s.spec.windowDays} d</div>
        <div class="sub">${num(s.slo.bad)} bad of ${num(s.slo.total)} · ${s.alerts.length ? s.alerts.map((a) => pill(`${a.rule} burn`, 'bad')).join(' ') : pill('no alert', 'ok')}</div></div>`;
    })
    .join('');
  const table = `<table id="slo-table"><thead><tr><th>SLO</th><th>window</th><th class="num">events</th><th class="num">bad</th><th class="num">bad ratio</th><th class="num">burn rate</th></tr></thead><tbody>${p.statuses
    .flatMap((s) =>
      [s.slo, ...s.windows].map(
        (
          w,
        ) => `<tr data-slo-window="${esc(s.spec.id)}|${esc(w.window)}"><td>${esc(s.spec.id)}</td><td>${w.window === 'slo' ? `${s.spec.windowDays}d (budget)` : esc(w.window)}</td>
        <td class="num">${num(w.total)}</td><td class="num">${num(w.bad)}</td><td class="num">${pct(w.badRatio, 2)}</td>
        <td class="num" style="color:${w.burnRate > 14.4 ? 'var(--bad)' : w.burnRate > 6 ? 'var(--warn)' : 'inherit'}">${w.burnRate.toFixed(2)}×${w.exact ? '' : ' ≥'}</td></tr>`,
      ),
    )
    .join('')}</tbody></table>`;
  const chart = lineChart({
    title: 'burn rate',
    width: 1300,
    height: 220,
    series: p.statuses.flatMap((s, i) => [
      {
        name: `${s.spec.id} 1h`,
        color: colors[i % colors.length],
        points: series.map((x) => [x.at, x.burn[s.spec.id]?.['1h'] ?? 0]),
      },
    ]),
    thresholds: [
      { value: 14.4, label: 'fast burn 14.4×', color: '#f85149' },
      { value: 6, label: 'slow burn 6×', color: '#d29922' },
    ],
    format: (v) => `${axis(v)}×`,
  });
  const log = alerts.length
    ? `<table><thead><tr><th>at</th><th>alert</th><th>outcome</th></tr></thead><tbody>${alerts
        .slice()
        .reverse()
        .map(
          (a) =>
            `<tr><td>${time(a.at)}</td><td><code>${esc(a.key)}</code></td><td>${pill(a.outcome, a.outcome === 'sent' ? 'ok' : 'bad')} ${esc(a.error ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : channels.length
      ? `<div class="empty">No alert sent by this console yet (to ${esc(channels.join(', '))}; page: 14.4× over 1 h and 5 m, 6× over 6 h and 30 m).</div>`
      : '<div class="empty">No notification channel configured (NOTIFY_SLACK_WEBHOOK_URL, NOTIFY_TEAMS_WEBHOOK_URL in the console\'s environment): alerts are computed (resilience_slo_alert_firing) but not sent.</div>';
  return `<h2>SLOs</h2><div class="cards">${cards}</div>
    <div class="box"><h3 style="margin-top:0">Burn rate (1 h window)</h3>${chart}</div>
    <div class="box"><h3 style="margin-top:0">Windows</h3>${table}<div class="muted" style="margin-top:6px">${p.roundTrips} count calls per evaluation (one row read each), computed from Appwrite's execution records.</div></div>
    <div class="box"><h3 style="margin-top:0">Alerts sent (once per alert window, via the notifier and breakers)</h3>${log}</div>`;
}

// ---- shell ----------------------------------------------------------------------------------------------------
function badge(tab, n, cls) {
  const el = document.getElementById(`badge-${tab}`);
  el.textContent = n ? String(n) : '';
  el.className = `badge ${cls}`;
}

function remember() {
  for (const d of document.querySelectorAll('details[data-key]'))
    (d.open ? openDetails.add : openDetails.delete).call(openDetails, d.dataset.key);
  for (const el of document.querySelectorAll('[data-keep]'))
    chosen.set(el.dataset.keep, el.type === 'checkbox' ? el.checked : el.value);
}

function restore() {
  for (const d of document.querySelectorAll('details[data-key]'))
    if (openDetails.has(d.dataset.key)) d.open = true;
  for (const el of document.querySelectorAll('[data-keep]')) {
    if (!chosen.has(el.dataset.keep)) continue;
    if (el.type === 'checkbox') el.checked = chosen.get(el.dataset.keep);
    else if ([...el.options].some((o) => o.value === chosen.get(el.dataset.keep)))
      el.value = chosen.get(el.dataset.keep);
  }
}

function render(data) {
  latest = data;
  const s = data.state;
  remember();
  document.getElementById('panel-breakers').innerHTML = renderBreakers(s.breakers, data.series);
  document.getElementById('panel-jobs').innerHTML = renderJobs(s.jobs, data.series);
  document.getElementById('panel-quotas').innerHTML = renderQuotas(s.quotas);
  document.getElementById('panel-rollouts').innerHTML = renderRollouts(s.rollouts);
  document.getElementById('panel-slos').innerHTML = renderSlos(
    s.slos,
    data.series,
    data.alerts,
    data.alertChannels ?? [],
  );
  restore();
  for (const log of document.querySelectorAll('[data-events]')) log.scrollTop = log.scrollHeight;
  document.getElementById('updated').textContent =
    `updated ${new Date(s.at).toLocaleTimeString([], { hour12: false })}`;
  document.getElementById('updated').dataset.at = s.at;
  document.getElementById('trips').textContent = `${s.roundTrips.total} API calls per refresh`;
  document.body.dataset.loaded = 'true';
}

async function poll() {
  try {
    const res = await fetch('/api/state', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(await res.json());
  } catch (e) {
    document.getElementById('updated').textContent = `offline: ${e.message}`;
  }
}

async function act(action, body) {
  const res = await fetch(`/api/actions/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': CSRF },
    body: JSON.stringify(body),
  });
  const out = await res.json().catch(() => ({}));
  if (!res.ok || !out.ok) {
    const issues = out.error?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new Error(`${out.error?.message ?? `HTTP ${res.status}`}${issues ? ` (${issues})` : ''}`);
  }
  if (latest && out.state) render({ ...latest, state: out.state });
  return out.result;
}

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button');
  if (!button) return;
  let action = button.dataset.action;
  let body = button.dataset.body ? JSON.parse(button.dataset.body) : null;
  if (button.dataset.start) {
    const fn = button.dataset.start;
    action = 'rollout.start';
    body = {
      functionId: fn,
      deploymentId: document.getElementById(`start-${fn}`).value,
      force: document.getElementById(`force-${fn}`).checked,
    };
    if (!confirm(`Roll out ${body.deploymentId} to ${fn}${body.force ? ' (FORCED)' : ''}?`)) return;
  } else if (!action) return;
  if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
  button.disabled = true;
  try {
    await act(action, body);
    toast(`${action} done`);
  } catch (e) {
    toast(`${action} failed: ${e.message}`, true);
    button.disabled = false;
  }
});

function showTab() {
  const tab = (location.hash || '#breakers').slice(1);
  for (const s of document.querySelectorAll('section[data-panel]')) s.hidden = s.dataset.panel !== tab;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab);
}
window.addEventListener('hashchange', showTab);
showTab();
poll();
setInterval(poll, POLL_MS);
