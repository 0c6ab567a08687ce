// Rule form: keeps "matches n stations" live while stations are ticked or tags typed, and draws the
// backtest preview charts with uPlot (measure line, threshold lines, alarm periods shaded).
(() => {
  // ---- live count of matched stations ----
  const scopeData = document.getElementById('scope-data');
  const out = document.getElementById('scope-count');
  const form = out?.closest('form');
  if (scopeData && out && form) {
    const devices = JSON.parse(scopeData.textContent);
    const count = () => {
      const by = form.querySelector('input[name="scope_by"]:checked')?.value ?? 'stations';
      let n = 0;
      if (by === 'stations') {
        n = form.querySelectorAll('input[name="scope.deviceIds"]:checked').length;
      } else {
        const tags = {};
        for (const line of form.querySelector('textarea[name="scope.tags"]').value.split(/\r?\n/)) {
          const eq = line.indexOf('=');
          if (eq > 0) tags[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
        }
        const keys = Object.keys(tags);
        n = keys.length ? devices.filter((d) => keys.every((k) => d.tags[k] === tags[k])).length : 0;
      }
      out.textContent = out.dataset.word.replace('{n}', String(n));
    };
    form.addEventListener('input', count);
    form.addEventListener('change', count);
  }

  // ---- preview charts ----
  const dataEl = document.getElementById('preview-data');
  const uPlot = window.uPlot;
  if (!dataEl || !uPlot) return;
  const data = JSON.parse(dataEl.textContent);
  const css = getComputedStyle(document.documentElement);
  const col = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const fg = col('--fg', '#222');
  const grid = col('--line', '#ddd');
  const dpr = window.devicePixelRatio || 1;
  const locale = data.lang === 'de' ? 'de-DE' : 'en-GB';
  const hm = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dm = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Berlin', day: '2-digit', month: '2-digit' });
  const timeLabels = (_u, splits, _ax, _space, incr) =>
    splits.map((ts, k) => {
      const d = new Date(ts * 1000);
      if (incr >= 86400) return dm.format(d);
      const t = hm.format(d);
      return k === 0 || t === '00:00' ? `${t}\n${dm.format(d)}` : t;
    });

  const draw = (c) => (u) => {
    const ctx = u.ctx;
    ctx.save();
    for (const a of c.periods) {
      const x0 = Math.max(u.valToPos(a.from, 'x', true), u.bbox.left);
      const x1 = Math.min(u.valToPos(a.to, 'x', true), u.bbox.left + u.bbox.width);
      if (x1 < u.bbox.left || x0 > u.bbox.left + u.bbox.width) continue;
      ctx.globalAlpha = 0.22;
      ctx.fillStyle = col(`--sev-${a.severity}`, '#f00');
      ctx.fillRect(x0, u.bbox.top, Math.max(2 * dpr, x1 - x0), u.bbox.height);
    }
    ctx.globalAlpha = 1;
    for (const l of c.lines) {
      const y = Math.round(u.valToPos(l.value, 'y', true));
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

  const charts = {};
  window.__previewCharts = charts;
  for (const row of data.rows) {
    for (const c of [row.current, row.next]) {
      if (!c) continue;
      const el = document.querySelector(`[data-chart="${CSS.escape(c.id)}"]`);
      if (!el) continue;
      const lineMax = Math.max(0, ...c.lines.map((l) => l.value));
      const opts = {
        width: Math.max(260, el.clientWidth - 4),
        height: 240,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Europe/Berlin'),
        legend: { show: true },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 1, lineMax * 1.15, 1)] } },
        axes: [
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, values: timeLabels },
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, label: c.unit },
        ],
        series: [{}, { label: c.label, stroke: col('--series', '#1f5fbf'), width: 2 * dpr, points: { show: false } }],
        hooks: { draw: [draw(c)] },
      };
      charts[c.id] = new uPlot(opts, [c.times, c.values], el);
      el.dataset.drawn = '1';
    }
  }
  window.addEventListener('resize', () => {
    for (const [id, u] of Object.entries(charts)) {
      const el = document.querySelector(`[data-chart="${CSS.escape(id)}"]`);
      if (el) u.setSize({ width: Math.max(260, el.clientWidth - 4), height: 240 });
    }
  });
})();
