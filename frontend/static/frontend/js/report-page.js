// A report's page: a small map, and the status and timeline kept up to date over
// /ws/reports/{id}/ (the socket sends a snapshot, then every change).

/* global maplibregl, gettext */

import { LiveSocket } from './live.js';
import { statusColour } from './dom.js';
import { createMap, readConfig } from './mapview.js';

const config = readConfig();
const report = config.report;
const statusLabel = Object.fromEntries(config.statuses.map((s) => [s.code, s.label]));
let shownVersion = report.version;

const map = createMap('report-map', config, { center: [report.lon, report.lat], zoom: 16,
                                               interactiveReports: false });
const initialStatus = document.getElementById('report-status').className.replace(/.*status-/, '');
let marker = new maplibregl.Marker({ color: statusColour(initialStatus) })
  .setLngLat([report.lon, report.lat]).addTo(map);

function formatTime(iso) {
  return new Intl.DateTimeFormat(document.documentElement.lang, {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}

function renderTimeline(timeline) {
  const list = document.getElementById('timeline');
  list.replaceChildren(...timeline.map((event) => {
    const item = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = event.at;
    time.textContent = formatTime(event.at);
    item.append(time, ' ');
    if (event.to_status) {
      const strong = document.createElement('strong');
      strong.className = 'status-name';
      strong.dataset.status = event.to_status;
      strong.textContent = statusLabel[event.to_status] || event.to_status;
      item.append(strong, ' ');
    }
    item.append(event.text || '');
    return item;
  }));
}

function render(message) {
  if (message.version <= shownVersion && message.type !== 'report.snapshot') return;
  shownVersion = Math.max(shownVersion, message.version);
  const p = message.feature.properties;
  const badge = document.getElementById('report-status');
  badge.className = `status status-${p.status}`;
  badge.querySelector('.dot').className = `dot dot-${p.status}`;
  document.getElementById('report-status-label').textContent = statusLabel[p.status] || p.status;
  document.getElementById('report-department').textContent =
    (p.responsible_body || p.department).name;
  marker.remove();  // a marker's colour is fixed when it is made
  marker = new maplibregl.Marker({ color: statusColour(p.status) })
    .setLngLat([report.lon, report.lat]).addTo(map);
  if (message.timeline) renderTimeline(message.timeline);
}

document.querySelectorAll('.status-name').forEach((node) => {
  node.textContent = statusLabel[node.dataset.status] || node.dataset.status;
});

new LiveSocket(`/ws/reports/${report.id}/`, {
  onMessage: (message) => {
    if (message.feature) render(message);
  },
  onStateChange: (state) => {
    document.body.dataset.live = state;
    document.getElementById('live-note').textContent = state === 'open'
      ? gettext('This page updates by itself when the report changes.')
      : gettext('Live updates are paused; reconnecting…');
  },
});
