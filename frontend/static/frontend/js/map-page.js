// The citizen map page: reports on the map with filters and a list of what is on screen,
// live updates, and the report flow (place → what → details → sent).

/* global maplibregl, gettext, interpolate, ngettext */

import { ApiError, getJSON, newIdempotencyKey, postJSONWithRetry, uploadWithProgress }
  from './api.js';
import { LiveSocket } from './live.js';
import { STATUS_COLOURS, bboxOf, createMap, readConfig, setReportTiles } from './mapview.js';
import { resizePhoto } from './photos.js';

const $ = (id) => document.getElementById(id);
const config = readConfig();
const statusLabel = Object.fromEntries(config.statuses.map((s) => [s.code, s.label]));
const MAX_PHOTOS = 5;
const LIST_LIMIT = 50;

const params = new URLSearchParams(window.location.search);
const startCenter = params.has('lon') && params.has('lat')
  ? [Number(params.get('lon')), Number(params.get('lat'))] : undefined;
const state = {
  filters: { status: config.statuses.filter((s) => s.open).map((s) => s.code), category: '' },
  tileVersion: 0,
  categories: new Map(),
};
const map = createMap('map', config, {
  center: startCenter, zoom: params.has('zoom') ? Number(params.get('zoom')) : undefined,
  filters: state.filters,
});
window.os2geoMap = map;  // for the browser tests and the curious

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function statusBadge(status) {
  return el('span', { class: `status status-${status}` },
    el('span', { class: 'dot', style: `background:${STATUS_COLOURS[status]}`, 'aria-hidden': 'true' }),
    statusLabel[status] || status);
}

// --- filters and the list of what is on screen -------------------------------------------

function buildStatusFilters() {
  const box = $('status-filters');
  for (const status of config.statuses) {
    const id = `filter-${status.code}`;
    const input = el('input', { type: 'checkbox', id, value: status.code });
    input.checked = state.filters.status.includes(status.code);
    input.addEventListener('change', onFiltersChanged);
    box.append(el('div', { class: 'check' }, input,
      el('label', { for: id }, el('span', { class: 'dot', style: `background:${STATUS_COLOURS[status.code]}`,
                                           'aria-hidden': 'true' }), ` ${status.label}`)));
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

function listQuery(extra = {}) {
  const query = new URLSearchParams({ bbox: bboxOf(map).join(','), limit: String(LIST_LIMIT), ...extra });
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
      statusBadge(p.status),
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

// --- live updates ------------------------------------------------------------------------

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

// The list does not wait for the map's first frame (a background tab may not draw one).
refreshList();
map.on('moveend', () => { refreshList(); subscribeLive(); });
map.on('click', 'reports', (event) => {
  if (flow.active) return;
  const id = event.features[0].id;
  const item = document.querySelector(`[data-report-id="${id}"] a`);
  if (item) item.focus();
  showReportPopup(event.lngLat, id);
});

async function showReportPopup(lngLat, id) {
  const feature = await getJSON(`/api/v1/reports/${id}/`);
  const p = feature.properties;
  const content = el('div', { class: 'popup' },
    el('strong', {}, `${p.category.name} #${id}`), el('br'), statusBadge(p.status),
    el('p', {}, (p.description || '').slice(0, 160)),
    el('a', { href: `/reports/${id}` }, gettext('Open the report')));
  new maplibregl.Popup({ closeButton: true }).setLngLat(lngLat).setDOMContent(content).addTo(map);
}

// --- the report flow ---------------------------------------------------------------------

const flow = {
  active: false, point: null, marker: null, municipality: null, categories: [],
  category: null, photos: [], key: null,
};

function showStep(step) {
  for (const name of ['place', 'what', 'details']) {
    $(`step-${name}`).hidden = name !== step;
    const item = document.querySelector(`.steps [data-step="${name}"]`);
    if (name === step) item.setAttribute('aria-current', 'step');
    else item.removeAttribute('aria-current');
  }
}

function startFlow() {
  flow.active = true;
  flow.key = newIdempotencyKey();  // one key for this report, kept across retries
  $('browse').hidden = true;
  $('done').hidden = true;
  $('report-form').hidden = false;
  $('crosshair').hidden = false;
  showStep('place');
  $('flow-heading').focus();
}

function endFlow() {
  flow.active = false;
  if (flow.marker) flow.marker.remove();
  Object.assign(flow, { point: null, marker: null, municipality: null, category: null, photos: [] });
  $('report-form').reset();
  $('report-form').hidden = true;
  $('crosshair').hidden = true;
  $('photo-previews').replaceChildren();
  $('place-summary').textContent = '';
  $('place-error').hidden = true;
  $('place-next').disabled = true;
  $('browse').hidden = false;
}

async function placePin(lngLat, { fly = false } = {}) {
  const point = { lon: Number(lngLat.lng.toFixed(7)), lat: Number(lngLat.lat.toFixed(7)) };
  flow.point = point;
  if (!flow.marker) {
    flow.marker = new maplibregl.Marker({ draggable: true, color: '#b3261e' })
      .setLngLat(lngLat).addTo(map);
    flow.marker.getElement().setAttribute('aria-label', gettext('The place of the problem'));
    flow.marker.on('dragend', () => placePin(flow.marker.getLngLat()));
  } else {
    flow.marker.setLngLat(lngLat);
  }
  if (fly) map.flyTo({ center: lngLat, zoom: Math.max(map.getZoom(), 16) });
  $('place-next').disabled = true;
  $('place-error').hidden = true;
  $('place-summary').textContent = gettext('Looking up the place…');
  try {
    const data = await getJSON(`/api/v1/categories/?lon=${point.lon}&lat=${point.lat}`);
    if (flow.point !== point) return;  // the pin moved again meanwhile
    flow.municipality = data.municipality;
    flow.categories = data.categories;
    let address = '';
    try {
      const nearest = await getJSON(`/api/v1/addresses/nearest/?lon=${point.lon}&lat=${point.lat}`);
      if (nearest.distance_m < 75) address = nearest.label;
    } catch { /* no address nearby: the pin alone is enough */ }
    flow.address = address;
    $('place-summary').textContent = address
      ? interpolate(gettext('Near %(address)s, %(municipality)s'), { address, municipality: data.municipality.name }, true)
      : interpolate(gettext('In %(municipality)s'), { municipality: data.municipality.name }, true);
    $('place-next').disabled = false;
  } catch (error) {
    if (flow.point !== point) return;
    $('place-summary').textContent = '';
    const box = $('place-error');
    box.hidden = false;
    if (error instanceof ApiError && error.status === 400) {
      box.textContent = `${gettext('We cannot take reports for this place: it is outside the municipalities served here.')} ${error.message}`;
    } else {
      box.textContent = gettext('Could not look up the place. Check your connection and try again.');
    }
  }
}

map.on('click', (event) => { if (flow.active) placePin(event.lngLat); });
$('pin-centre').addEventListener('click', () => placePin(map.getCenter()));
$('locate-me').addEventListener('click', () => {
  if (!navigator.geolocation) {
    $('place-error').hidden = false;
    $('place-error').textContent = gettext('This browser cannot tell your location.');
    return;
  }
  $('place-summary').textContent = gettext('Finding your location…');
  navigator.geolocation.getCurrentPosition(
    (position) => placePin(new maplibregl.LngLat(position.coords.longitude, position.coords.latitude), { fly: true }),
    () => {
      $('place-summary').textContent = '';
      $('place-error').hidden = false;
      $('place-error').textContent = gettext('Your location is not available. Search for an address or use the map.');
    },
    { enableHighAccuracy: true, timeout: 10000 });
});

// Address search: a combobox with a list of suggestions, operable by keyboard.
let searchTimer = null;
let searchResults = [];
let activeResult = -1;
function closeSuggestions() {
  $('address-results').hidden = true;
  $('address-input').setAttribute('aria-expanded', 'false');
  $('address-input').removeAttribute('aria-activedescendant');
  activeResult = -1;
}
function chooseAddress(index) {
  const address = searchResults[index];
  if (!address) return;
  $('address-input').value = address.label;
  closeSuggestions();
  const [lon, lat] = address.location.coordinates;
  placePin(new maplibregl.LngLat(lon, lat), { fly: true });
}
$('address-input').addEventListener('input', () => {
  clearTimeout(searchTimer);
  const q = $('address-input').value.trim();
  if (q.length < 2) { closeSuggestions(); return; }
  searchTimer = setTimeout(async () => {
    try {
      searchResults = (await getJSON(`/api/v1/addresses/?q=${encodeURIComponent(q)}&limit=8`)).results;
    } catch { searchResults = []; }
    const list = $('address-results');
    list.replaceChildren(...searchResults.map((address, index) => el('li', {
      id: `address-${index}`, role: 'option', 'aria-selected': 'false',
      onmousedown: (event) => { event.preventDefault(); chooseAddress(index); },
    }, address.label)));
    if (!searchResults.length) list.append(el('li', { class: 'muted', role: 'option', 'aria-disabled': 'true' }, gettext('No address found')));
    list.hidden = false;
    $('address-input').setAttribute('aria-expanded', 'true');
  }, 200);
});
$('address-input').addEventListener('keydown', (event) => {
  if ($('address-results').hidden) return;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const step = event.key === 'ArrowDown' ? 1 : -1;
    activeResult = (activeResult + step + searchResults.length) % Math.max(searchResults.length, 1);
    document.querySelectorAll('#address-results [role=option]').forEach((option, index) => {
      option.setAttribute('aria-selected', String(index === activeResult));
    });
    $('address-input').setAttribute('aria-activedescendant', `address-${activeResult}`);
  } else if (event.key === 'Enter') {
    event.preventDefault();
    chooseAddress(activeResult >= 0 ? activeResult : 0);
  } else if (event.key === 'Escape') {
    closeSuggestions();
  }
});
$('address-input').addEventListener('blur', () => setTimeout(closeSuggestions, 150));

// Step 2: what.
$('place-next').addEventListener('click', () => {
  const box = $('category-choices');
  box.replaceChildren(...flow.categories.map((category) => {
    const id = `category-${category.code}`;
    const input = el('input', { type: 'radio', name: 'category', id, value: category.code });
    input.addEventListener('change', () => chooseCategory(category));
    return el('div', { class: 'choice' }, input, el('label', { for: id }, category.name,
      category.description ? el('span', { class: 'muted' }, ` – ${category.description}`) : ''));
  }));
  $('what-next').disabled = true;
  $('duplicates').hidden = true;
  showStep('what');
  const first = box.querySelector('input');
  if (first) first.focus();
});

async function chooseCategory(category) {
  flow.category = category;
  $('what-next').disabled = false;
  const query = new URLSearchParams({
    near: `${flow.point.lon},${flow.point.lat}`, radius: '250', category: category.code,
    status: 'submitted,acknowledged,in_progress', limit: '5',
  });
  let features = [];
  try { features = (await getJSON(`/api/v1/reports/?${query}`)).features; } catch { features = []; }
  if (flow.category !== category) return;
  $('duplicates').hidden = features.length === 0;
  $('duplicate-list').replaceChildren(...features.map(duplicateItem));
  // On a phone the list sits below the categories: bring it into view.
  if (features.length) $('duplicates').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function duplicateItem(feature) {
  const p = feature.properties;
  const email = el('input', { type: 'email', id: `follow-email-${feature.id}`, autocomplete: 'email' });
  const message = el('p', { role: 'status', 'aria-live': 'polite' });
  const form = el('div', { class: 'follow', hidden: true },
    el('label', { for: email.id }, gettext('Your email, to hear when it changes')), email,
    el('button', { type: 'button', class: 'primary', onclick: async () => {
      try {
        await postJSONWithRetry(`/api/v1/reports/${feature.id}/follow/`, { email: email.value });
        message.textContent = gettext('Thank you. Check your mail and confirm to follow the report.');
        form.querySelectorAll('input,button').forEach((node) => { node.disabled = true; });
      } catch (error) {
        message.textContent = error instanceof ApiError && error.errors.email
          ? gettext('Enter a valid email address.') : gettext('Something went wrong. Try again.');
      }
    } }, gettext('Follow this report')), message);
  return el('li', { class: 'duplicate' },
    el('a', { href: `/reports/${feature.id}`, target: '_blank' }, `${p.category.name} #${feature.id}`), ' ',
    statusBadge(p.status), el('p', {}, (p.description || '').slice(0, 160)),
    el('button', { type: 'button', onclick: (event) => {
      form.hidden = false; event.target.setAttribute('aria-expanded', 'true'); email.focus();
    }, 'aria-expanded': 'false' }, gettext('This is my problem too')),
    form);
}

$('what-back').addEventListener('click', () => showStep('place'));
$('cancel-report').addEventListener('click', endFlow);
$('start-report').addEventListener('click', startFlow);
$('done-close').addEventListener('click', () => { $('done').hidden = true; $('browse').hidden = false; });

// Step 3: details.
$('what-next').addEventListener('click', () => {
  renderQuestions(flow.category.questions || []);
  $('anonymous-row').hidden = !flow.category.anonymous_allowed;
  showStep('details');
  $('description').focus();
});
$('details-back').addEventListener('click', () => showStep('what'));
$('anonymous').addEventListener('change', () => {
  const anonymous = $('anonymous').checked;
  for (const id of ['reporter-name', 'reporter-email', 'reporter-phone']) $(id).disabled = anonymous;
});

function renderQuestions(questions) {
  const box = $('questions');
  box.replaceChildren(...questions.map((q) => {
    const id = `question-${q.code}`;
    const required = q.required ? el('span', { class: 'req' }, ` (${gettext('required')})`) : '';
    const error = el('p', { class: 'field-error', id: `${id}-error` });
    if (q.datatype === 'singlevaluelist' || q.datatype === 'multivaluelist') {
      const multi = q.datatype === 'multivaluelist';
      return el('fieldset', { class: 'question', 'data-code': q.code, 'data-type': q.datatype,
                              'aria-describedby': error.id },
        el('legend', {}, q.description || q.question, required),
        ...q.values.map((v) => el('div', { class: 'check' },
          el('input', { type: multi ? 'checkbox' : 'radio', name: id, id: `${id}-${v.key}`, value: v.key }),
          el('label', { for: `${id}-${v.key}` }, v.name))), error);
    }
    const input = q.datatype === 'text' ? el('textarea', { id, rows: 3 })
      : el('input', { id, type: q.datatype === 'number' ? 'number' : q.datatype === 'datetime' ? 'datetime-local' : 'text' });
    input.setAttribute('aria-describedby', error.id);
    return el('div', { class: 'question', 'data-code': q.code, 'data-type': q.datatype },
      el('label', { for: id }, q.description || q.question, required), input, error);
  }));
}

function collectAnswers() {
  const answers = {};
  for (const box of document.querySelectorAll('#questions .question')) {
    const { code, type } = box.dataset;
    if (type === 'multivaluelist') {
      const chosen = [...box.querySelectorAll('input:checked')].map((i) => i.value);
      if (chosen.length) answers[code] = chosen;
    } else if (type === 'singlevaluelist') {
      const chosen = box.querySelector('input:checked');
      if (chosen) answers[code] = chosen.value;
    } else {
      const value = box.querySelector('input,textarea').value.trim();
      if (value) answers[code] = type === 'number' ? Number(value) : type === 'datetime' ? new Date(value).toISOString() : value;
    }
  }
  return answers;
}

$('photos').addEventListener('change', async () => {
  const files = [...$('photos').files].slice(0, MAX_PHOTOS - flow.photos.length);
  for (const file of files) {
    const blob = await resizePhoto(file);
    const entry = { blob, name: file.name };
    flow.photos.push(entry);
    const progress = el('progress', { max: '100', value: '0', 'aria-label': interpolate(gettext('Upload of %(name)s'), { name: file.name }, true) });
    entry.progress = progress;
    const url = URL.createObjectURL(blob);
    $('photo-previews').append(el('li', {},
      el('img', { src: url, alt: interpolate(gettext('Photo: %(name)s'), { name: file.name }, true) }),
      progress,
      el('button', { type: 'button', onclick: (event) => {
        flow.photos.splice(flow.photos.indexOf(entry), 1);
        event.target.closest('li').remove();
      } }, gettext('Remove'))));
  }
  $('photos').value = '';
});

function showFieldErrors(errors) {
  const mapping = {
    description: 'description-error', 'reporter.email': 'reporter-email-error',
    'reporter.phone': 'reporter-phone-error', reporter: 'reporter-email-error',
  };
  for (const node of document.querySelectorAll('.field-error')) node.textContent = '';
  let first = null;
  for (const [field, messages] of Object.entries(errors)) {
    let target = mapping[field] && $(mapping[field]);
    if (!target && field.startsWith('answers.')) target = $(`question-${field.slice(8)}-error`);
    if (!target) continue;
    target.textContent = messages.join(' ');
    const input = target.previousElementSibling;
    if (input && input.setAttribute) input.setAttribute('aria-invalid', 'true');
    first = first || input;
  }
  return first;
}

function checkLocally() {
  const errors = {};
  if (!$('description').value.trim()) errors.description = [gettext('Describe the problem.')];
  const email = $('reporter-email');
  if (!email.disabled && email.value && !email.checkValidity()) errors['reporter.email'] = [gettext('Enter a valid email address.')];
  const anonymous = $('anonymous').checked && flow.category.anonymous_allowed;
  if (!anonymous && !flow.category.anonymous_allowed && !email.value.trim() && !$('reporter-phone').value.trim()) {
    errors.reporter = [gettext('Give an email address or a phone number, so that the municipality can reach you.')];
  }
  return errors;
}

$('report-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('submit-error').hidden = true;
  const local = checkLocally();
  if (Object.keys(local).length) {
    const first = showFieldErrors(local);
    if (first) first.focus();
    return;
  }
  showFieldErrors({});
  const anonymous = $('anonymous').checked && flow.category.anonymous_allowed;
  const payload = {
    location: { type: 'Point', coordinates: [flow.point.lon, flow.point.lat] },
    category: flow.category.code,
    description: $('description').value.trim(),
    address: flow.address || '',
    answers: collectAnswers(),
  };
  if (!anonymous) {
    payload.reporter = { name: $('reporter-name').value.trim(), email: $('reporter-email').value.trim(),
                         phone: $('reporter-phone').value.trim() };
  }
  const button = $('submit-report');
  button.disabled = true;
  $('submit-progress').textContent = gettext('Sending…');
  let created;
  try {
    created = await postJSONWithRetry('/api/v1/reports/', payload, {
      key: flow.key,
      onRetry: (n) => { $('submit-progress').textContent = interpolate(gettext('The connection failed; trying again (%(n)s)…'), { n }, true); },
    });
  } catch (error) {
    button.disabled = false;
    $('submit-progress').textContent = '';
    const box = $('submit-error');
    box.hidden = false;
    if (error instanceof ApiError && error.status === 400) {
      box.textContent = gettext('Please correct the marked fields.');
      const first = showFieldErrors(error.errors);
      if (first) first.focus();
    } else if (error instanceof ApiError) {
      box.textContent = error.message;
    } else {
      box.textContent = gettext('We could not reach the server. Your report is not lost: press “Send report” again when you are online.');
    }
    return;
  }
  if (created.confirmation_required) {
    finish(created.id, gettext('Check your mail: the report is sent on when you confirm it.'), false);
    return;
  }
  await uploadPhotos(created);
  finish(created.id, interpolate(gettext('Report #%(id)s is sent to %(department)s.'),
    { id: created.id, department: created.properties.department.name }, true), true);
});

async function uploadPhotos(created) {
  for (const [index, photo] of flow.photos.entries()) {
    $('submit-progress').textContent = interpolate(gettext('Sending photo %(n)s of %(total)s…'),
      { n: index + 1, total: flow.photos.length }, true);
    const form = new FormData();
    form.append('photo', photo.blob, photo.name.replace(/\.[^.]*$/, '') + '.jpg');
    const headers = { 'X-Photo-Token': created.photo_upload_token, 'Idempotency-Key': `${flow.key}-photo-${index}` };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await uploadWithProgress(`/api/v1/reports/${created.id}/photos/`, form, headers, (fraction) => {
          photo.progress.value = Math.round(fraction * 100);
        });
        photo.progress.value = 100;
        break;
      } catch (error) {
        if (error instanceof ApiError) break;  // refused (too large, not an image): go on
        await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
      }
    }
  }
}

function finish(id, message, published) {
  const button = $('submit-report');
  button.disabled = false;
  $('submit-progress').textContent = '';
  endFlow();
  $('browse').hidden = true;
  $('done').hidden = false;
  $('done-message').textContent = message;
  const link = $('done-link');
  link.hidden = !published;
  link.href = `/reports/${id}`;
  link.textContent = interpolate(gettext('Follow report #%(id)s here'), { id }, true);
  $('done').focus();
  refreshReports();
}

buildStatusFilters();
loadCategories();
