// Lagebild in the browser: Leaflet map with grid clustering, live board over Server-Sent Events,
// one-click acknowledge, sound and title cue on new or escalated alarms (mutable). No framework.
(() => {
  const L = window.L;
  const data = JSON.parse(document.getElementById('lagebild-data').textContent);
  /** Leaflet puts a string tooltip in as HTML: a station's name goes in as text */
  const textNode = (t) => {
    const el = document.createElement('span');
    el.textContent = t;
    return el;
  };
  const words = data.words;
  const css = getComputedStyle(document.documentElement);
  const colour = (status) => css.getPropertyValue(`--sev-${status}`).trim() || '#888';
  const rank = { ok: 0, offline: 1, minor: 2, moderate: 3, severe: 4, extreme: 5 };
  let stations = data.stations;
  /** when the live feed last heard each station (seconds), for ten minutes */
  const heard = new Map();

  // ---- map ----
  const map = L.map('map', { zoomControl: true, attributionControl: !!data.tiles });
  if (data.tiles) L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 }).addTo(map);
  for (const o of data.outlines) {
    L.polygon(o.points, { color: colour('offline'), weight: 2, fill: true, fillOpacity: 0.04, dashArray: '6 4', interactive: false }).addTo(map);
  }
  const located = () => stations.filter((s) => s.lat !== null && s.lon !== null);
  const pts = located().map((s) => [s.lat, s.lon]);
  if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 14 });
  else map.setView([51.1, 10.4], 6);
  const layer = L.layerGroup().addTo(map);

  const fmtTime = (t) =>
    t
      ? new Intl.DateTimeFormat(words.lang === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'short' }).format(
          new Date(t),
        )
      : words.never;

  // a station's values are fetched when its popup opens (the live feed carries colours, not readings)
  function popup(s) {
    const el = document.createElement('div');
    const h = document.createElement('strong');
    h.textContent = s.name;
    const st = document.createElement('div');
    st.textContent = words.status[s.status] || s.status;
    const seen = document.createElement('div');
    seen.textContent = `${words.lastSeen}: ${fmtTime(s.lastSeen)}`;
    const values = document.createElement('div');
    const a = document.createElement('a');
    a.href = `/stations/${encodeURIComponent(s.id)}`;
    a.textContent = words.details;
    el.append(h, st, seen, values, a);
    fetch(`/stations/${encodeURIComponent(s.id)}/latest.json`, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((l) => {
        if (!l) return;
        seen.textContent = `${words.lastSeen}: ${fmtTime(Math.max(l.lastSeen || 0, s.lastSeen || 0) || null)}`;
        for (const [m, v] of Object.entries(l.values)) {
          const row = document.createElement('div');
          row.className = 'latest';
          row.dataset.metric = m;
          row.textContent = `${m}: ${Math.round(v * 100) / 100}`;
          values.append(row);
        }
      })
      .catch(() => {});
    return el;
  }

  // Grid clustering in screen space: stations closer than CELL pixels share one marker showing their
  // count in the colour of the worst among them; clicking it zooms in.
  const CELL = 44;
  function draw() {
    layer.clearLayers();
    const zoom = map.getZoom();
    const cells = new Map();
    for (const s of located()) {
      const p = map.project([s.lat, s.lon], zoom);
      const k = zoom >= 16 ? s.id : `${Math.floor(p.x / CELL)}:${Math.floor(p.y / CELL)}`;
      const c = cells.get(k);
      if (c) c.push(s);
      else cells.set(k, [s]);
    }
    for (const group of cells.values()) {
      if (group.length === 1) {
        const s = group[0];
        const m = L.circleMarker([s.lat, s.lon], {
          radius: 9,
          color: '#ffffff',
          weight: 2,
          fillColor: colour(s.status),
          fillOpacity: 1,
          className: `station sev-${s.status}`,
        });
        m.bindTooltip(textNode(s.name)); // a string would be put in as HTML
        m.bindPopup(() => popup(s));
        m.addTo(layer);
        const el = m.getElement();
        if (el) {
          el.setAttribute('data-station', s.id);
          el.setAttribute('data-status', s.status);
        }
      } else {
        const worst = group.reduce((w, s) => (rank[s.status] > rank[w] ? s.status : w), 'ok');
        const lat = group.reduce((a, s) => a + s.lat, 0) / group.length;
        const lon = group.reduce((a, s) => a + s.lon, 0) / group.length;
        const size = group.length < 10 ? 30 : group.length < 100 ? 36 : 44;
        const icon = L.divIcon({ className: '', html: `<div class="cluster-icon sev-${worst}">${group.length}</div>`, iconSize: [size, size] });
        const m = L.marker([lat, lon], { icon, keyboard: true, title: `${group.length}` });
        m.on('click', () => map.fitBounds(L.latLngBounds(group.map((s) => [s.lat, s.lon])).pad(0.3)));
        m.addTo(layer);
        const el = m.getElement();
        if (el) {
          el.setAttribute('data-cluster', String(group.length));
          el.setAttribute('data-status', worst);
          const inner = el.firstElementChild;
          if (inner) {
            inner.classList.add(`size-${size}`);
            inner.style.width = `${size}px`;
            inner.style.height = `${size}px`;
          }
        }
      }
    }
  }
  map.on('zoomend', draw);
  draw();

  // ---- board ----
  const board = document.getElementById('board');
  const filters = document.getElementById('filters');
  const query = () => new URLSearchParams(new FormData(filters)).toString();

  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const q = query();
      const [b, s] = await Promise.all([fetch(`/board?${q}`, { credentials: 'same-origin' }), fetch(`/stations.json?${q}`, { credentials: 'same-origin' })]);
      if (b.status === 401 || b.redirected) return location.reload();
      if (b.ok) board.innerHTML = await b.text(); // server-rendered, escaped HTML
      if (s.ok) {
        stations = (await s.json()).stations;
        talking();
        draw();
      }
      tickDurations();
    } catch {
      /* the next event or reconnect refreshes again */
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  filters.addEventListener('change', () => {
    history.replaceState(null, '', `/?${query()}`);
    refresh();
  });
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    history.replaceState(null, '', `/?${query()}`);
    refresh();
  });

  // one click: acknowledge without leaving the board
  board.addEventListener('submit', async (e) => {
    const form = e.target.closest('form.ack-form');
    if (!form) return;
    e.preventDefault();
    const btn = form.querySelector('button');
    if (btn) btn.disabled = true;
    try {
      await fetch(form.action, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(new FormData(form)).toString(),
      });
    } finally {
      refresh();
    }
  });

  // running time, kept current without a reload
  const dur = (ms) => {
    const min = Math.max(0, Math.floor(ms / 60000));
    const d = Math.floor(min / 1440);
    const h = Math.floor((min % 1440) / 60);
    const parts = [];
    if (d) parts.push(words.d.replace('{n}', d));
    if (h || d) parts.push(words.h.replace('{n}', h));
    parts.push(words.min.replace('{n}', min % 60));
    return parts.join(' ');
  };
  function tickDurations() {
    for (const td of board.querySelectorAll('[data-since]')) td.textContent = dur(Date.now() - Date.parse(td.dataset.since));
  }
  setInterval(tickDurations, 30000);

  // ---- cues ----
  const muteBtn = document.getElementById('mute');
  let muted = localStorage.getItem('rw-muted') === '1';
  const showMute = () => {
    muteBtn.setAttribute('aria-pressed', String(muted));
    muteBtn.textContent = muted ? words.unmute : words.mute;
  };
  showMute();
  muteBtn.addEventListener('click', () => {
    muted = !muted;
    localStorage.setItem('rw-muted', muted ? '1' : '0');
    showMute();
  });
  let audio;
  function beep() {
    document.body.dataset.sound = muted ? 'muted' : 'played';
    if (muted) return;
    try {
      audio ??= new AudioContext();
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = 880;
      g.gain.value = 0.15;
      o.connect(g).connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.35);
    } catch {
      /* no audio device */
    }
  }
  const baseTitle = document.title;
  let unseen = 0;
  function cue() {
    document.body.dataset.cues = String(Number(document.body.dataset.cues || 0) + 1);
    beep();
    if (document.visibilityState === 'visible' && document.hasFocus()) return;
    unseen++;
    document.title = `(${unseen}) ⚠ ${words.newAlarm} – ${baseTitle}`;
  }
  const clearCue = () => {
    unseen = 0;
    document.title = baseTitle;
  };
  window.addEventListener('focus', clearCue);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && document.hasFocus() && clearCue());

  // the wall screen reloads itself every 15 minutes on top of the live updates (a fresh page after a long night)
  if (document.body.classList.contains('wall')) setTimeout(() => location.reload(), 15 * 60 * 1000);

  // ---- live ----
  const live = document.getElementById('live');
  const setLive = (on) => {
    live.className = `live ${on ? 'on' : 'off'}`;
    live.textContent = on ? words.live : words.lost;
  };
  let timer;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 80);
  };
  const es = new EventSource('/events');
  es.addEventListener('hello', () => {
    setLive(true);
    document.body.dataset.live = '1';
    // what happened between the page's own data and this connection, or while it was down: an alarm stored
    // in that moment sends no event this page could still hear
    refresh();
  });
  es.addEventListener('error', () => setLive(false));
  es.addEventListener('alarm', (e) => {
    const a = JSON.parse(e.data);
    if (a.kind === 'firing' || a.kind === 'escalated') cue();
    soon();
  });
  // a grey (silent) station is talking again: green unless an alarm colours it
  es.addEventListener('stations', (e) => {
    const back = JSON.parse(e.data);
    for (const [id, sec] of Object.entries(back)) heard.set(id, Math.max(sec, heard.get(id) || 0));
    if (talking()) draw();
  });
  /** a refresh may answer with what the server read just before a station talked: what this page heard counts too */
  function talking() {
    let changed = false;
    const old = Date.now() / 1000 - 600;
    for (const [id, sec] of heard) if (sec < old) heard.delete(id);
    for (const s of stations) {
      const sec = heard.get(s.id);
      if (sec === undefined) continue;
      s.lastSeen = Math.max(sec * 1000, s.lastSeen || 0);
      if (s.status === 'offline' && s.openAlarms === 0) {
        s.status = 'ok';
        changed = true;
      }
    }
    return changed;
  }
})();
