// The MapLibre map with our own layers: municipality boundaries (GeoJSON from
// /api/v1/areas/) and reports (vector tiles from /api/v1/tiles/reports/). Both come from
// this server, so they draw even when the base layer's tiles cannot be reached.

/* global maplibregl, gettext */

import { statusColour } from './dom.js';

// A style expression colouring features by their status, in the stylesheet's colours
// (--status-<code>, the one definition; the statuses come from the server's config).
export function statusColourExpression(statuses) {
  return ['match', ['get', 'status'],
    ...statuses.flatMap((status) => [status.code, statusColour(status.code)]), '#333'];
}

export function readConfig() {
  return JSON.parse(document.getElementById('map-config').textContent);
}

export function tileUrl(filters = {}, version = 0) {
  const params = new URLSearchParams();
  if (filters.status && filters.status.length) params.set('status', filters.status.join(','));
  if (filters.category) params.set('category', filters.category);
  if (version) params.set('v', String(version));
  const query = params.toString();
  return `${window.location.origin}/api/v1/tiles/reports/{z}/{x}/{y}.mvt${query ? `?${query}` : ''}`;
}

// How long a base layer given as a style URL may take to arrive before the map goes on
// without it (our own layers are drawn from the start either way).
const BASEMAP_STYLE_TIMEOUT_MS = 8000;

const BACKGROUND = { id: 'background', type: 'background',
                     paint: { 'background-color': '#eef1f4' } };

// Our own sources and layers: part of the map's style from its first frame, so they never
// wait for the base layer. MapLibre's `load` event waits for every source's first tiles,
// the base layer's included: when those tiles stall (no internet, a proxy, a slow mobile
// network) a map that added its layers on `load` showed nothing at all.
function ownSources(filters, config) {
  return {
    municipalities: { type: 'geojson', data: '/api/v1/areas/?kind=municipality&simplify=0.0002' },
    reports: { type: 'vector', tiles: [tileUrl(filters)], minzoom: 0, maxzoom: config.tileMaxZoom },
  };
}

function ownLayers(config) {
  return [
    { id: 'municipality-lines', type: 'line', source: 'municipalities',
      paint: { 'line-color': '#0b3d91', 'line-width': 2, 'line-opacity': 0.8 } },
    { id: 'clusters', type: 'circle', source: 'reports', 'source-layer': 'clusters',
      paint: {
        'circle-color': '#1f5fa8', 'circle-opacity': 0.85,
        'circle-stroke-color': '#fff', 'circle-stroke-width': 2,
        'circle-radius': ['interpolate', ['linear'], ['get', 'count'], 1, 10, 100, 18, 1000, 26],
      } },
    // Counts are in the list beside the map; the style has no font glyphs (they would be
    // one more thing to fetch from elsewhere), so clusters show their size by radius.
    { id: 'reports', type: 'circle', source: 'reports', 'source-layer': 'reports',
      paint: {
        'circle-color': statusColourExpression(config.statuses),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 5, 16, 9],
        'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5,
      } },
  ];
}

// The base layer's sources and layers under ours (a style object: its own layers first).
export function composeStyle(basemap, own) {
  const base = basemap && typeof basemap === 'object'
    ? basemap : { version: 8, sources: {}, layers: [BACKGROUND] };
  return { ...base, sources: { ...base.sources, ...own.sources },
           layers: [...base.layers, ...own.layers] };
}

async function fetchStyle(url) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), BASEMAP_STYLE_TIMEOUT_MS);
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

export function createMap(container, config, { center, zoom, interactiveReports = true,
                                               filters = {}, overlay = null } = {}) {
  const start = config.start;
  const element = typeof container === 'string' ? document.getElementById(container) : container;
  const own = { sources: ownSources(filters, config), layers: ownLayers(config) };
  if (overlay) {  // a page's own data (the staff queue), drawn above the reports
    Object.assign(own.sources, overlay.sources);
    own.layers.push(...overlay.layers);
  }
  const map = new maplibregl.Map({
    // MapLibre's own control texts, in the page's language (the JavaScript catalog).
    locale: {
      'Map.Title': element.dataset.label || gettext('Map'),
      'NavigationControl.ZoomIn': gettext('Zoom in'),
      'NavigationControl.ZoomOut': gettext('Zoom out'),
      'NavigationControl.ResetBearing': gettext('Reset bearing to north'),
      'AttributionControl.ToggleAttribution': gettext('Toggle attribution'),
      'Popup.Close': gettext('Close popup'),
      'Marker.Title': gettext('Map marker'),
    },
    container,
    // A base layer given as a URL is fetched on the side and put under our layers when
    // (and if) it arrives; an inline one is part of the first style.
    style: composeStyle(typeof config.basemap === 'object' ? config.basemap : null, own),
    center: center || [start.lon, start.lat],
    zoom: zoom ?? start.zoom,
    maxZoom: 19,
    attributionControl: { compact: false },
    // The map region is focusable; MapLibre's keyboard handler pans with the arrow keys
    // and zooms with + and -.
    keyboard: true,
  });
  if (typeof config.basemap === 'string') {
    fetchStyle(config.basemap)
      .then((style) => {
        // Our sources keep their current tiles (filters may have changed them meanwhile).
        const current = { sources: {}, layers: own.layers };
        for (const id of Object.keys(own.sources)) {
          const source = map.getSource(id);
          current.sources[id] = source && source.tiles
            ? { ...own.sources[id], tiles: source.tiles } : own.sources[id];
        }
        map.setStyle(composeStyle(style, current));
      })
      .catch(() => { document.body.dataset.basemap = 'unavailable'; });
  }
  if (document.getElementById('map-help')) {
    map.getCanvas().setAttribute('aria-describedby', 'map-help');
  }
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  if (interactiveReports) {
    map.on('click', 'clusters', (event) => {
      map.easeTo({ center: event.lngLat, zoom: Math.min(map.getZoom() + 2, config.tileMaxZoom) });
    });
    for (const layer of ['reports', 'clusters']) {
      map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
    }
  }
  return map;
}

// True when our own sources (not the base layer's) have loaded what the view needs: what
// the browser tests wait for instead of map.loaded(), which waits for the base layer too.
export function ownSourcesLoaded(map) {
  const ids = ['municipalities', 'reports', 'queue'].filter((id) => map.getSource(id));
  return ids.length > 0 && ids.every((id) => map.isSourceLoaded(id));
}

export function setReportTiles(map, filters, version) {
  const source = map.getSource('reports');
  if (source) source.setTiles([tileUrl(filters, version)]);
}

export function bboxOf(map) {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
          clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
    .map((v) => Number(v.toFixed(6)));
}
