// The citizen map page: the map (mapview), browsing it with filters, a list and live updates
// (browse), and the report flow (report-flow).

import { createBrowser, initialFilters } from './browse.js';
import { createMap, readConfig } from './mapview.js';
import { createReportFlow } from './report-flow.js';

const config = readConfig();
const statusLabel = Object.fromEntries(config.statuses.map((s) => [s.code, s.label]));
const params = new URLSearchParams(window.location.search);
const filters = initialFilters(config);
const map = createMap('map', config, {
  center: params.has('lon') && params.has('lat')
    ? [Number(params.get('lon')), Number(params.get('lat'))] : undefined,
  zoom: params.has('zoom') ? Number(params.get('zoom')) : undefined,
  filters,
});
window.os2geoMap = map;  // for the browser tests and the curious

let flow = null;
const browser = createBrowser({ map, config, filters, statusLabel,
                                isFlowActive: () => Boolean(flow && flow.isActive()) });
flow = createReportFlow({ map, config, statusLabel, onSent: () => browser.refreshReports() });
