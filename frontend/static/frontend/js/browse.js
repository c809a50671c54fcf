// Browsing the map: status and category filters, the list of what is on screen (the text
// alternative to the dots), report popups, and live updates with catching up (docs/live.md).

/* global maplibregl, gettext, interpolate */

import { getJSON } from './api.js';
import { $, el, statusBadge, statusDot } from './dom.js';
import { LiveSocket } from './live.js';
import { bboxOf, setReportTiles } from './mapview.js';

const LIST_LIMIT = 50;

// The filters a page starts with: the open statuses (the server says which are open).
export function initialFilters(config) {
  return { status: config.statuses.filter((s) => s.open).map((s) => s.code), category: '' };
}

export function createBrowser({ map, config, filters, statusLabel, isFlowActive }) {
  const state = { filters, tileVersion: 0, categories: new Map() };

  function buildStatusFilters() {
    const box = $('status-filters');
    for (const status of config.statuses) {
      const id = `filter-${status.code}`;
      const input = el('input', { type: 'checkbox', id, value: status.code });
      input.checked = state.filters.status.includes(status.code);
      input.addEventListener('change', onFiltersChanged);
      box.append(el('div', { class: 'check' }, input,
        el('label', { for: id }, statusDot(status.code), ` ${status.label}`)));
    }
    $('category-filter').addEventListener('change', onFiltersChanged);
  }

  async function loadCategories() {
    const select = $('category-filter');
    for (const municipality of config.municipalities) {
      try {
        const data = await getJSON(`/api/v1/categories/?municipality=${municipality}`);
        for (const category of data.categories) {
          if (!state.categories.has(category.code)) {
            state.categories.set(category.code, category.name);
            select.append(el('option', { value: category.code }, category.name));
          }
        }
      } catch { /* the filter just has fewer choices */ }
    }
  }

  function onFiltersChanged() {
    state.filters.status = [...document.querySelectorAll('#status-filters input:checked')]
      .map((input) => input.value);
    state.filters.category = $('category-filter').value;
    refreshReports();
    subscribeLive();
  }

  function listQuery() {
    const query = new URLSearchParams({ bbox: bboxOf(map).join(','), limit: String(LIST_LIMIT) });
    if (state.filters.status.length) query.set('status', state.filters.status.join(','));
    if (state.filters.category) query.set('category', state.filters.category);
    return query;
  }

  let listAbort = null;
  async function refreshList() {
    if (state.filters.status.length === 0) { renderList([]); return; }
    if (listAbort) listAbort.abort();
    listAbort = new AbortController();
    try {
      const data = await getJSON(`/api/v1/reports/?${listQuery()}`, { signal: listAbort.signal });
      renderList(data.features, Boolean(data.next));
    } catch (error) {
      if (error.name !== 'AbortError') $('map-status').textContent = gettext('Could not load the reports.');
    }
  }

  function renderList(features, more = false) {
    const list = $('report-list');
    list.replaceChildren(...features.map((feature) => {
      const p = feature.properties;
      return el('li', { class: 'report-item', 'data-report-id': feature.id },
        el('a', { href: `/reports/${feature.id}` }, `${p.category.name} #${feature.id}`), ' ',
        statusBadge(p.status, statusLabel),
        el('p', { class: 'muted' }, p.address || p.municipality.name),
        p.description ? el('p', {}, p.description.slice(0, 140)) : '');
    }));
    $('list-count').textContent = `(${features.length}${more ? '+' : ''})`;
    $('list-more').hidden = !more;
    if (!features.length) list.append(el('li', { class: 'muted' }, gettext('No reports here with these filters.')));
  }

  function refreshReports() {
    state.tileVersion += 1;
    setReportTiles(map, state.filters, state.tileVersion);
    refreshList();
  }

  let refreshTimer = null;
  function scheduleRefresh() {  // a burst of events refreshes once
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshReports, 400);
  }

  // After a reconnect, or when the server says events may have been lost (`resync`), the
  // tiles and the list are fetched again: that is the catch-up (docs/live.md).
  let liveOpened = false;
  const live = new LiveSocket('/ws/map/', {
    onOpen: () => {
      subscribeLive();
      if (liveOpened) scheduleRefresh();
      liveOpened = true;
    },
    onMessage: (message) => {
      if (message.type === 'resync') {
        scheduleRefresh();
      } else if (message.type && message.type.startsWith('report.')) {
        scheduleRefresh();
        const feature = message.feature;
        if (feature && message.type === 'report.updated') {
          $('map-status').textContent = interpolate(gettext('Report #%(id)s is now: %(status)s'),
            { id: feature.id, status: statusLabel[feature.properties.status] }, true);
        }
      }
    },
    onStateChange: (s) => { document.body.dataset.live = s; },
  });

  function subscribeLive() {
    const filters = {};
    if (state.filters.status.length) filters.status = state.filters.status;
    if (state.filters.category) filters.category = [state.filters.category];
    live.send({ type: 'subscribe', bbox: bboxOf(map), filters });
  }

  async function showReportPopup(lngLat, id) {
    const feature = await getJSON(`/api/v1/reports/${id}/`);
    const p = feature.properties;
    const content = el('div', { class: 'popup' },
      el('strong', {}, `${p.category.name} #${id}`), el('br'), statusBadge(p.status, statusLabel),
      el('p', {}, (p.description || '').slice(0, 160)),
      el('a', { href: `/reports/${id}` }, gettext('Open the report')));
    new maplibregl.Popup({ closeButton: true }).setLngLat(lngLat).setDOMContent(content).addTo(map);
  }

  // The list does not wait for the map's first frame (a background tab may not draw one).
  refreshList();
  map.on('moveend', () => { refreshList(); subscribeLive(); });
  map.on('click', 'reports', (event) => {
    if (isFlowActive()) return;
    const id = event.features[0].id;
    const item = document.querySelector(`[data-report-id="${id}"] a`);
    if (item) item.focus();
    showReportPopup(event.lngLat, id);
  });
  buildStatusFilters();
  loadCategories();
  return { refreshReports };
}
