// A report in the dashboard: its map (drag the pin to fill in the move form), response
// templates into the reply boxes, and a warning when someone else changes the report.

/* global maplibregl, gettext */

import { LiveSocket } from './live.js';
import { createMap, readConfig } from './mapview.js';

const config = readConfig();
const report = config.report;
const map = createMap('report-map', config, { center: [report.lon, report.lat], zoom: 16,
                                               interactiveReports: false });
const marker = new maplibregl.Marker({ draggable: true }).setLngLat([report.lon, report.lat]).addTo(map);
marker.on('dragend', () => {
  const { lng, lat } = marker.getLngLat();
  document.getElementById('move-lon').value = lng.toFixed(7);
  document.getElementById('move-lat').value = lat.toFixed(7);
  document.getElementById('move-lon').focus();
});

for (const picker of document.querySelectorAll('.template-picker')) {
  picker.addEventListener('change', () => {
    if (picker.value) document.getElementById(picker.dataset.target).value = picker.value;
  });
}

function warnChanged() {
  if (document.getElementById('changed-elsewhere')) return;
  const note = document.createElement('div');
  note.id = 'changed-elsewhere';
  note.className = 'error';
  note.setAttribute('role', 'alert');
  const link = document.createElement('a');
  link.href = window.location.pathname;
  link.textContent = gettext('Reload to see the change');
  note.append(gettext('Someone else has just changed this report. '), link);
  document.querySelector('main h1').after(note);
}

// Events may have been missed (between the page's rendering and the socket's opening, on a
// reconnect, or on `resync` from the server): ask for the report's current version.
async function checkVersion() {
  const response = await fetch(`/staff/reports/${report.id}/row`, { headers: { Accept: 'text/html' } });
  if (!response.ok) return;
  const template = document.createElement('template');
  template.innerHTML = (await response.text()).trim();
  const row = template.content.firstElementChild;
  if (row && Number(row.dataset.version) > report.version) warnChanged();
}

new LiveSocket('/ws/staff/', {
  onOpen: checkVersion,
  onMessage: (message) => {
    if (message.type === 'resync') { checkVersion(); return; }
    if (message.report_id !== report.id || message.version <= report.version) return;
    warnChanged();
  },
});
