// Station charts with uPlot: levels as a line with Meldestufen / threshold lines, rain as bars with rolling
// 1 h and 6 h sums and the DWD levels; alarm periods shaded, flagged readings as hollow points.
// Drag across a chart to zoom in, double-click to zoom out.
(() => {
  const uPlot = window.uPlot;
  const data = JSON.parse(document.getElementById('station-data').textContent);
  const css = getComputedStyle(document.documentElement);
  const col = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const fg = col('--fg', '#222');
  const grid = col('--line', '#ddd');
  const panel = col('--panel', '#fff');
  const dpr = window.devicePixelRatio || 1;
  const tzDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Europe/Berlin');
  const charts = {};
  window.__charts = charts;

  const size = (el) => ({ width: Math.max(260, el.clientWidth - 4), height: window.innerWidth < 760 ? 220 : 280 });

  function shade(periods) {
    return (u) => {
      const ctx = u.ctx;
      ctx.save();
      for (const a of periods) {
        const x0 = u.valToPos(a.from, 'x', true);
        const x1 = u.valToPos(a.to, 'x', true);
        ctx.globalAlpha = 0.18;
        ctx.fillStyle = col(`--sev-${a.severity}`, '#f00');
        ctx.fillRect(Math.max(x0, u.bbox.left), u.bbox.top, Math.max(2, Math.min(x1, u.bbox.left + u.bbox.width) - Math.max(x0, u.bbox.left)), u.bbox.height);
      }
      ctx.restore();
    };
  }

  function thresholdLines(lines) {
    return (u) => {
      const ctx = u.ctx;
      ctx.save();
      for (const l of lines) {
        const y = Math.round(u.valToPos(l.value, l.scale, true));
        if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
        ctx.strokeStyle = col(`--sev-${l.severity}`, '#f00');
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 2 * dpr;
        ctx.setLineDash([10 * dpr, 6 * dpr]);
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.font = `${12 * dpr}px system-ui, sans-serif`;
        ctx.textAlign = 'right';
        ctx.fillText(l.label, u.bbox.left + u.bbox.width - 6 * dpr, y - 5 * dpr);
      }
      ctx.restore();
    };
  }

  /** a scale range that always shows the threshold lines of that scale */
  const rangeWith = (lines, scale, floor) => (_u, min, max) => {
    const vals = [min, max, ...lines.filter((l) => l.scale === scale).map((l) => l.value)].filter((v) => v !== null && Number.isFinite(v));
    if (!vals.length) return [floor ?? 0, 1];
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const pad = (hi - lo) * 0.08 || 1;
    lo = floor !== undefined ? Math.max(floor, lo - pad) : lo - pad;
    hi += pad;
    return [lo, hi];
  };

  // time labels in Europe/Berlin in the page's language: 14:00, with the date under midnight and the first tick
  const locale = data.words.lang === 'de' ? 'de-DE' : 'en-GB';
  const hm = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dm = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Berlin', day: '2-digit', month: '2-digit' });
  const timeLabels = (_u, splits, _ax, _space, incr) =>
    splits.map((ts, k) => {
      const d = new Date(ts * 1000);
      if (incr >= 86400) return dm.format(d);
      const t = hm.format(d);
      return k === 0 || t === '00:00' ? `${t}\n${dm.format(d)}` : t;
    });

  const axis = (extra) => ({ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, ...extra });

  function draw(c) {
    const el = document.getElementById(`chart-${c.metric}`);
    if (!el) return false;
    charts[c.metric]?.destroy();
    const hooks = { drawClear: [shade(c.alarms)], draw: [thresholdLines(c.lines)] };
    let opts;
    let series;
    if (c.kind === 'rain') {
      opts = {
        ...size(el),
        tzDate,
        legend: { show: false },
        scales: { x: { time: true }, mm: { range: rangeWith([], 'mm', 0) }, sum: { range: rangeWith(c.lines, 'sum', 0) } },
        axes: [
          axis({ values: timeLabels }),
          axis({ scale: 'mm', label: `mm / ${c.bucketMin} min` }),
          axis({ scale: 'sum', side: 1, label: 'mm', grid: { show: false } }),
        ],
        series: [
          {},
          {
            label: 'mm',
            scale: 'mm',
            fill: col('--rain', '#3b8fd9'),
            stroke: col('--rain', '#3b8fd9'),
            paths: uPlot.paths.bars({ size: [0.85, 60] }),
            points: { show: false },
          },
          { label: data.words.sum1h, scale: 'sum', stroke: col('--sum1h', '#0b3d91'), width: 2, points: { show: false } },
          { label: data.words.sum6h, scale: 'sum', stroke: col('--sum6h', '#117a65'), width: 2, dash: [6, 3], points: { show: false } },
        ],
        hooks,
      };
      series = [c.x, c.bars, c.sum1h, c.sum6h];
    } else {
      // the scale follows the good readings and the threshold lines; a flagged value far outside (a
      // sensor glitch) is drawn at the edge instead of squashing the curve
      const [lo, hi] = rangeWith(c.lines, 'y')(null, Math.min(...c.good.filter((v) => v !== null)), Math.max(...c.good.filter((v) => v !== null)));
      const flagged = c.flagged.map((v) => (v === null ? null : Math.min(hi, Math.max(lo, v))));
      opts = {
        ...size(el),
        tzDate,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: () => [lo, hi] } },
        axes: [axis({ values: timeLabels }), axis({ label: c.unit })],
        series: [
          {},
          { label: c.title, stroke: col('--series', '#1f5fbf'), width: 2, spanGaps: true, points: { show: false } },
          { label: data.words.flagged, stroke: fg, fill: panel, paths: () => null, points: { show: true, size: 11, width: 2, stroke: fg, fill: panel } },
        ],
        hooks,
      };
      series = [c.x, c.good, flagged];
    }
    const u = new uPlot(opts, series, el);
    charts[c.metric] = u;
    el.dataset.drawn = String(c.x.length);
    return true;
  }
  for (const c of data.charts) draw(c);

  // Live: a preset range (6 h / 24 h / 7 d) ends now, so new readings of this station are drawn as they are
  // stored — the server says "new readings" over Server-Sent Events, the page fetches its charts again (at
  // most every 2 s). A chart of a metric the page does not have yet needs a reload; a custom range stays.
  if (data.live) {
    const { deviceId, range } = data.live;
    let busy = false;
    let again = false;
    let last = 0;
    const refresh = async () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      const wait = Math.max(0, last + 2000 - Date.now());
      if (wait) await new Promise((r) => setTimeout(r, wait));
      last = Date.now();
      try {
        const res = await fetch(`/stations/${encodeURIComponent(deviceId)}/charts.json?range=${encodeURIComponent(range)}`, { credentials: 'same-origin' });
        if (res.ok) {
          const fresh = await res.json();
          const known = fresh.charts.every((c) => c.metric in charts);
          if (!known && fresh.charts.length > Object.keys(charts).length) return location.reload();
          for (const c of fresh.charts) draw(c);
          const seen = document.getElementById('last-seen');
          if (seen && fresh.lastSeen) seen.textContent = fresh.lastSeen;
          document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
        }
      } finally {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      }
    };
    const es = new EventSource(`/events?device=${encodeURIComponent(deviceId)}`);
    es.addEventListener('reading', refresh);
    // readings stored between the page's own data and this connection (or while it was down) send no event here
    es.addEventListener('hello', refresh);
    es.addEventListener('alarm', (e) => {
      try {
        if (JSON.parse(e.data).deviceId === deviceId) refresh();
      } catch {
        /* not for this page */
      }
    });
  }

  let t;
  window.addEventListener('resize', () => {
    clearTimeout(t);
    t = setTimeout(() => {
      for (const [metric, u] of Object.entries(charts)) u.setSize(size(document.getElementById(`chart-${metric}`)));
    }, 150);
  });
})();
