// The staff queue: a map of the page's reports, selection for bulk actions, and live
// updates over /ws/staff/ that change rows in place (new reports are added at the top,
// marked), so the caseworker never loses their place.

/* global maplibregl, gettext, interpolate */

import { LiveSocket } from './live.js';
import { createMap, readConfig, statusColourExpression } from './mapview.js';

const config = readConfig();
const features = JSON.parse(document.getElementById('queue-features').textContent);
const body = document.getElementById('queue-body');
const liveStatus = document.getElementById('live-status');

// The queue's reports are part of the map's first style, so they never wait for the base
// layer (mapview.js says why).
const map = createMap('staff-map', config, { interactiveReports: false, overlay: {
  sources: { queue: { type: 'geojson', data: features } },
  layers: [{ id: 'queue', type: 'circle', source: 'queue', paint: {
    'circle-color': statusColourExpression(config.statuses),
    'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } }],
} });
window.os2geoMap = map;  // for the browser tests
if (features.features.length) {
  const bounds = new maplibregl.LngLatBounds();
  for (const f of features.features) bounds.extend(f.geometry.coordinates);
  map.fitBounds(bounds, { padding: 40, maxZoom: 15, duration: 0 });
}
map.on('click', 'queue', (event) => {
  const row = document.getElementById(`report-${event.features[0].id}`);
  if (row) { row.scrollIntoView({ block: 'center' }); row.querySelector('a').focus(); }
});

// Bulk selection.
document.getElementById('select-all').addEventListener('change', (event) => {
  for (const box of body.querySelectorAll('input.select')) box.checked = event.target.checked;
});
document.getElementById('bulk-form').addEventListener('submit', (event) => {
  const ids = [...body.querySelectorAll('input.select:checked')].map((box) => box.value);
  if (!ids.length) {
    event.preventDefault();
    liveStatus.textContent = gettext('Select one or more reports first.');
    return;
  }
  document.getElementById('bulk-reports').value = ids.join(',');
});

async function refreshRow(reportId, isNew) {
  const response = await fetch(`/staff/reports/${reportId}/row`, { headers: { Accept: 'text/html' } });
  if (!response.ok) return;  // outside this user's scope now (re-routed away): keep the row
  const template = document.createElement('template');
  template.innerHTML = (await response.text()).trim();
  const row = template.content.firstElementChild;
  const existing = document.getElementById(`report-${reportId}`);
  if (existing) {
    if (Number(existing.dataset.version) >= Number(row.dataset.version)) return;
    const checked = existing.querySelector('input.select').checked;
    existing.replaceWith(row);
    row.querySelector('input.select').checked = checked;
    row.classList.add('changed');
  } else if (isNew) {
    row.classList.add('new');
    body.prepend(row);
  }
}

// Catching up after live events may have been missed (between the page's rendering and the
// socket's opening, on a reconnect, or when the server says so with `resync`): every report
// in scope changed since the last catch-up.
let lastSync = config.since;
let catchingUp = null;
async function catchUp() {
  if (catchingUp) return catchingUp;
  catchingUp = (async () => {
    let url = `/staff/changes?${new URLSearchParams({ updated_after: lastSync })}`;
    let startedAt = null;
    let count = 0;
    while (url) {  // page by page: a long outage can leave thousands to catch up on
      const response = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!response.ok) return;
      const data = await response.json();
      startedAt = startedAt || data.now;
      for (const report of data.reports) await refreshRow(report.id, report.new);
      count += data.reports.length;
      url = data.next;
    }
    lastSync = startedAt;
    if (count) {
      liveStatus.textContent = interpolate(gettext('%(count)s reports brought up to date'),
        { count }, true);
    }
  })().finally(() => { catchingUp = null; });
  return catchingUp;
}

new LiveSocket('/ws/staff/', {
  onOpen: catchUp,
  onMessage: (message) => {
    if (message.type === 'resync') {
      catchUp();
    } else if (message.type === 'report.created') {
      refreshRow(message.report_id, true);
      liveStatus.textContent = interpolate(gettext('New report #%(id)s'), { id: message.report_id }, true);
    } else if (message.type === 'report.updated') {
      refreshRow(message.report_id, false);
      liveStatus.textContent = interpolate(gettext('Report #%(id)s changed'), { id: message.report_id }, true);
    }
  },
  onStateChange: (state) => { document.body.dataset.live = state; },
});
