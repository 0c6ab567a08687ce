// Device pages in the browser: the model's documentation follows the model picker, a click on the map sets
// the location, copy buttons for secrets shown once, and the live view of a device's uplinks (SSE). No framework.
(() => {
  // ---- model picker: show the chosen model's documentation and parameters ----
  const model = document.querySelector('form.register select[name="model"]');
  if (model) {
    // only the parameters the chosen model reads (a filled-in one stays visible)
    const show = () => {
      let params = [];
      for (const el of document.querySelectorAll('#model-doc [data-model]')) {
        el.hidden = el.getAttribute('data-model') !== model.value;
        if (!el.hidden) params = (el.getAttribute('data-params') || '').split(' ').filter(Boolean);
      }
      for (const input of document.querySelectorAll('form.register input[data-param]')) {
        const field = input.closest('.field');
        if (field) field.hidden = !params.includes(input.getAttribute('data-param')) && input.value === '';
      }
    };
    model.addEventListener('change', show);
    show();
  }

  // ---- map to pick the location ----
  const pick = document.getElementById('pick-map');
  if (pick && window.L) {
    const L = window.L;
    const data = JSON.parse(document.getElementById('pick-data').textContent);
    const lat = document.querySelector('input[name="lat"]');
    const lon = document.querySelector('input[name="lon"]');
    const map = L.map(pick, { attributionControl: !!data.tiles });
    if (data.tiles) L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 }).addTo(map);
    const css = getComputedStyle(document.documentElement);
    const grey = css.getPropertyValue('--sev-offline').trim() || '#888';
    const pts = [];
    for (const o of data.others) {
      if (typeof o.lat !== 'number') continue;
      pts.push([o.lat, o.lon]);
      const tip = document.createElement('span'); // Leaflet puts a string tooltip in as HTML: the name goes in as text
      tip.textContent = o.name;
      L.circleMarker([o.lat, o.lon], { radius: 5, color: grey, weight: 1, fillOpacity: 0.5 }).bindTooltip(tip).addTo(map);
    }
    let marker;
    const num = (s) => Number(String(s).replace(',', '.'));
    const place = (la, lo, move) => {
      if (!Number.isFinite(la) || !Number.isFinite(lo)) return;
      if (marker) marker.setLatLng([la, lo]);
      else marker = L.marker([la, lo], { keyboard: false }).addTo(map);
      if (move) map.setView([la, lo], Math.max(map.getZoom() || 13, 13));
    };
    if (lat.value && lon.value) {
      place(num(lat.value), num(lon.value), false);
      map.setView([num(lat.value), num(lon.value)], 13);
    } else if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.3), { maxZoom: 13 });
    else map.setView([51.1, 10.4], 6);
    map.on('click', (e) => {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      place(e.latlng.lat, e.latlng.lng, false);
    });
    for (const el of [lat, lon]) el.addEventListener('change', () => place(num(lat.value), num(lon.value), true));
  }

  // ---- copy buttons (passwords and tokens shown once) ----
  for (const b of document.querySelectorAll('button[data-copy]')) {
    b.hidden = false;
    b.addEventListener('click', async () => {
      const src = document.getElementById(b.getAttribute('data-copy'));
      const text = src ? src.textContent.trim() : '';
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        const r = document.createRange();
        r.selectNodeContents(src);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        document.execCommand('copy');
      }
      b.textContent = b.getAttribute('data-done') || b.textContent;
      b.setAttribute('data-copied', '1');
    });
  }

  // ---- live view ----
  const dataEl = document.getElementById('device-data');
  const log = document.getElementById('live-log');
  if (dataEl && log) {
    const data = JSON.parse(dataEl.textContent);
    const badge = document.getElementById('live');
    const body = log.querySelector('tbody');
    const url = `/devices/${encodeURIComponent(data.id)}/live?show=${encodeURIComponent(data.show)}&t=${data.t}&rid=${data.rid}`;
    const es = new EventSource(url);
    const state = (on) => {
      badge.className = `live ${on ? 'on' : 'off'}`;
      badge.textContent = on ? data.words.on : data.words.off;
      document.body.setAttribute('data-live', on ? '1' : '0');
    };
    es.addEventListener('hello', () => state(true));
    es.addEventListener('error', () => state(false));
    es.addEventListener('entry', (ev) => {
      const e = JSON.parse(ev.data);
      const tmp = document.createElement('tbody');
      tmp.innerHTML = e.html;
      const row = tmp.firstElementChild;
      if (!row) return;
      row.classList.add('new');
      body.insertBefore(row, body.firstChild);
      while (body.children.length > 200) body.removeChild(body.lastChild);
      const empty = document.getElementById('live-empty');
      if (empty) empty.remove();
      // an accepted uplink: the device is sending, seen just now
      if (e.kind === 'uplink') {
        const badge = document.querySelector('#dev-health [data-health]');
        if (badge) {
          badge.className = 'sev sev-ok';
          badge.setAttribute('data-health', 'ok');
          badge.textContent = data.words.sending;
        }
        const seen = document.getElementById('dev-last-seen');
        if (seen && row.firstElementChild) seen.textContent = row.firstElementChild.textContent;
      }
    });
  }
})();
