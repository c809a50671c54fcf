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

new LiveSocket('/ws/staff/', {
  onMessage: (message) => {
    if (message.report_id !== report.id || message.version <= report.version) return;
    let note = document.getElementById('changed-elsewhere');
    if (!note) {
      note = document.createElement('div');
      note.id = 'changed-elsewhere';
      note.className = 'error';
      note.setAttribute('role', 'alert');
      const link = document.createElement('a');
      link.href = window.location.pathname;
      link.textContent = gettext('Reload to see the change');
      note.append(gettext('Someone else has just changed this report. '), link);
      document.querySelector('main h1').after(note);
    }
  },
});
