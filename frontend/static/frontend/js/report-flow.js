// The report flow: place (address search, location, a click, a dragged pin or the keyboard)
// → what (the categories offered there, and open reports nearby to follow instead) →
// details (description, questions, photos, contact) → sent, with an Idempotency-Key made
// here and kept across retries. Limits and radii come from the server (config.limits).

/* global maplibregl, gettext, interpolate */

import { setupAddressSearch } from './address-search.js';
import { ApiError, getJSON, newIdempotencyKey, postJSONWithRetry, uploadWithProgress }
  from './api.js';
import { $, el, statusBadge, statusColour } from './dom.js';
import { resizePhoto } from './photos.js';
import { collectAnswers, renderQuestions } from './questions.js';

export function createReportFlow({ map, config, statusLabel, onSent }) {
  const limits = config.limits;
  const openStatuses = config.statuses.filter((s) => s.open).map((s) => s.code);
  const flow = {
    active: false, point: null, marker: null, municipality: null, categories: [],
    category: null, photos: [], key: null, address: '', assets: [], asset: null,
  };

  function showStep(step) {
    for (const name of ['place', 'what', 'details']) {
      $(`step-${name}`).hidden = name !== step;
      const item = document.querySelector(`.steps [data-step="${name}"]`);
      if (name === step) item.setAttribute('aria-current', 'step');
      else item.removeAttribute('aria-current');
    }
  }

  function start() {
    flow.active = true;
    flow.key = newIdempotencyKey();  // one key for this report, kept across retries
    $('browse').hidden = true;
    $('done').hidden = true;
    $('report-form').hidden = false;
    $('crosshair').hidden = false;
    showStep('place');
    $('flow-heading').focus();
  }

  function end() {
    flow.active = false;
    if (flow.marker) flow.marker.remove();
    Object.assign(flow, { point: null, marker: null, municipality: null, category: null, photos: [],
                          assets: [], asset: null });
    showAssetLayer([]);
    $('assets').hidden = true;
    $('report-form').reset();
    $('report-form').hidden = true;
    $('crosshair').hidden = true;
    $('photo-previews').replaceChildren();
    $('place-summary').textContent = '';
    $('place-error').hidden = true;
    $('place-next').disabled = true;
    $('browse').hidden = false;
  }

  // --- step 1: place ----------------------------------------------------------------------

  async function placePin(lngLat, { fly = false } = {}) {
    const point = { lon: Number(lngLat.lng.toFixed(7)), lat: Number(lngLat.lat.toFixed(7)) };
    flow.point = point;
    if (!flow.marker) {
      flow.marker = new maplibregl.Marker({ draggable: true, color: statusColour('submitted') })
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
        // The same distance the server uses when it fills in a report's address.
        if (nearest.distance_m <= limits.addressMaxDistanceM) address = nearest.label;
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

  map.on('click', (event) => {
    if (!flow.active) return;
    // On the "what" step a tap on an asset chooses it; anywhere else it moves the pin.
    const onAssets = !$('step-what').hidden && map.getLayer('assets')
      && map.getLayoutProperty('assets', 'visibility') !== 'none';
    const hit = onAssets ? map.queryRenderedFeatures(event.point, { layers: ['assets'] })[0] : null;
    if (hit) chooseAssetOnMap(hit);
    else placePin(event.lngLat);
  });
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
  setupAddressSearch({
    input: $('address-input'), list: $('address-results'),
    onChoose: (address) => {
      const [lon, lat] = address.location.coordinates;
      placePin(new maplibregl.LngLat(lon, lat), { fly: true });
    },
  });

  // --- step 2: what ------------------------------------------------------------------------

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

  // The category's notices (read on) and stoppers (the municipality is the wrong address:
  // the flow ends here, with where to go instead), as the categories list gives them.
  function noticeItems(notices) {
    return notices.map((notice) => el('div', {
      class: `notice notice-${notice.kind}`, role: notice.kind === 'stopper' ? 'alert' : 'note',
    }, el('p', {}, notice.text),
    notice.phone ? el('p', {}, gettext('Call'), ' ',
      el('a', { href: `tel:${notice.phone.replace(/\s/g, '')}` }, notice.phone)) : '',
    notice.link ? el('p', {}, el('a', { href: notice.link }, gettext('Read more'))) : ''));
  }

  async function chooseCategory(category) {
    flow.category = category;
    const notices = [...(category.notices || [])];
    if (category.private) {
      notices.unshift({ kind: 'notice', text: gettext('Reports in this category are not shown on the map or to anyone but the municipality. If you give your e-mail address, you get a private link to follow yours.') });
    }
    const box = $('category-notices');
    box.replaceChildren(...noticeItems(notices));
    box.hidden = notices.length === 0;
    // On a phone the notices sit below a long list of categories: bring them into view.
    if (notices.length) box.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    const stopped = notices.some((notice) => notice.kind === 'stopper');
    $('what-next').disabled = stopped;
    if (stopped) {
      $('duplicates').hidden = true;
      loadAssets(null);
      return;
    }
    loadAssets(category);
    const query = new URLSearchParams({
      near: `${flow.point.lon},${flow.point.lat}`, radius: String(limits.duplicateRadiusM),
      category: category.code, status: openStatuses.join(','), limit: '5',
    });
    let features = [];
    try { features = (await getJSON(`/api/v1/reports/?${query}`)).features; } catch { features = []; }
    if (flow.category !== category) return;
    $('duplicates').hidden = features.length === 0;
    $('duplicate-list').replaceChildren(...features.map((feature) => duplicateItem(feature)));
    // On a phone the list sits below the categories: bring it into view.
    if (features.length) $('duplicates').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  // One open report to follow instead; `list` keeps ids apart when a report is in both
  // lists (nearby, and on the chosen asset).
  function duplicateItem(feature, list = 'nearby') {
    const p = feature.properties;
    const email = el('input', { type: 'email', id: `${list}-follow-email-${feature.id}`, autocomplete: 'email' });
    const message = el('p', { role: 'status', 'aria-live': 'polite' });
    const followUp = el('input', { type: 'checkbox', id: `${list}-follow-up-${feature.id}` });
    const form = el('div', { class: 'follow', hidden: true },
      el('label', { for: email.id }, gettext('Your email, to hear when it changes')), email,
      el('p', {}, followUp, ' ', el('label', { for: followUp.id },
        gettext('Ask me too, once it is resolved, whether it was fixed'))),
      el('button', { type: 'button', class: 'primary', onclick: async () => {
        try {
          await postJSONWithRetry(`/api/v1/reports/${feature.id}/follow/`,
            { email: email.value, follow_up: followUp.checked });
          message.textContent = gettext('Thank you. Check your mail and confirm to follow the report.');
          form.querySelectorAll('input,button').forEach((node) => { node.disabled = true; });
        } catch (error) {
          message.textContent = error instanceof ApiError && error.errors.email
            ? gettext('Enter a valid email address.') : gettext('Something went wrong. Try again.');
        }
      } }, gettext('Follow this report')), message);
    return el('li', { class: 'duplicate' },
      el('a', { href: `/reports/${feature.id}`, target: '_blank' }, `${p.category.name} #${feature.id}`), ' ',
      statusBadge(p.status, statusLabel), el('p', {}, (p.description || '').slice(0, 160)),
      el('button', { type: 'button', onclick: (event) => {
        form.hidden = false; event.target.setAttribute('aria-expanded', 'true'); email.focus();
      }, 'aria-expanded': 'false' }, gettext('This is my problem too')),
      form);
  }

  // --- the asset (the very street light, bin or tree), for categories that have them ----

  function assetTileUrl(ids) {
    return `${window.location.origin}/api/v1/tiles/assets/{z}/{x}/{y}.mvt?type=${ids.join(',')}`;
  }

  // The asset layer is added when a category with assets is chosen, and again if a late
  // base layer replaced the style meanwhile.
  function showAssetLayer(ids) {
    flow.assetTypeIds = ids;
    if (!map.getSource('assets')) {
      if (!ids.length) return;
      const minzoom = config.assetMinZoom;
      map.addSource('assets', { type: 'vector', tiles: [assetTileUrl(ids)], minzoom, maxzoom: 18 });
      map.addLayer({ id: 'assets', type: 'circle', source: 'assets', 'source-layer': 'assets', minzoom,
        paint: { 'circle-color': ['case', ['>', ['get', 'open_reports'], 0], '#c25e00', '#0b3d91'],
                 'circle-radius': ['interpolate', ['linear'], ['zoom'], minzoom, 4, 18, 8],
                 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
      map.addLayer({ id: 'asset-chosen', type: 'circle', source: 'assets', 'source-layer': 'assets', minzoom,
        filter: ['==', ['id'], -1],
        paint: { 'circle-radius': 12, 'circle-opacity': 0, 'circle-stroke-color': '#111',
                 'circle-stroke-width': 3 } });
    } else if (ids.length) {
      map.getSource('assets').setTiles([assetTileUrl(ids)]);
    }
    for (const layer of ['assets', 'asset-chosen']) {
      map.setLayoutProperty(layer, 'visibility', ids.length ? 'visible' : 'none');
    }
  }
  map.on('styledata', () => {
    if (flow.assetTypeIds && flow.assetTypeIds.length && !map.getSource('assets')) {
      showAssetLayer(flow.assetTypeIds);
      markChosenAsset();
    }
  });

  function markChosenAsset() {
    if (map.getLayer('asset-chosen')) {
      map.setFilter('asset-chosen', ['==', ['id'], flow.asset ? flow.asset.id : -1]);
    }
  }

  async function loadAssets(category) {
    const types = category ? (category.asset_types || []) : [];
    const ids = types.map((type) => type.id);
    flow.assets = [];
    flow.asset = null;
    $('asset-reported').hidden = true;
    $('assets').hidden = ids.length === 0;
    showAssetLayer(ids);
    if (!ids.length) return;
    $('assets-legend').textContent = interpolate(gettext('Which one is it? (%(types)s)'),
      { types: types.map((type) => type.name).join(', ') }, true);
    if (map.getZoom() < 16) map.easeTo({ center: [flow.point.lon, flow.point.lat], zoom: 17 });
    const query = new URLSearchParams({ lon: String(flow.point.lon), lat: String(flow.point.lat),
                                        type: ids.join(','), limit: '5' });
    let found = [];
    try { found = (await getJSON(`/api/v1/assets/nearest/?${query}`)).assets; } catch { found = []; }
    if (flow.category !== category) return;
    flow.assets = found;
    renderAssetChoices();
    chooseAsset(found[0] || null);
  }

  function assetText(asset) {
    const parts = [asset.label];
    if (asset.distance_m !== undefined) {
      parts.push(interpolate(gettext('%(metres)s m away'), { metres: Math.round(asset.distance_m) }, true));
    }
    if (asset.open_reports.length) parts.push(gettext('already reported'));
    return parts.join(' · ');
  }

  function renderAssetChoices() {
    const choice = (asset) => {
      const id = asset ? `asset-${asset.id}` : 'asset-none';
      const input = el('input', { type: 'radio', name: 'asset', id, value: asset ? String(asset.id) : '' });
      input.addEventListener('change', () => chooseAsset(asset));
      return el('div', { class: 'choice' }, input,
        el('label', { for: id }, asset ? assetText(asset) : gettext('None of these, or I cannot see it')));
    };
    $('asset-choices').replaceChildren(...flow.assets.map(choice), choice(null));
  }

  function chooseAssetOnMap(feature) {
    let asset = flow.assets.find((known) => known.id === feature.id);
    if (!asset) {
      asset = { id: feature.id, label: feature.properties.label,
                location: { type: 'Point', coordinates: feature.geometry.coordinates },
                open_reports: feature.properties.open_reports > 0 ? [feature.id] : [] };
      flow.assets = [asset, ...flow.assets];
      renderAssetChoices();
    }
    chooseAsset(asset);
  }

  async function chooseAsset(asset) {
    flow.asset = asset;
    const radio = $(asset ? `asset-${asset.id}` : 'asset-none');
    if (radio) radio.checked = true;
    markChosenAsset();
    // The pin stands on the chosen asset (the report is placed there), or where it was put.
    if (flow.marker) flow.marker.setLngLat(asset ? asset.location.coordinates : [flow.point.lon, flow.point.lat]);
    $('asset-reported').hidden = true;
    if (!asset || !asset.open_reports.length) return;
    const query = new URLSearchParams({ asset: String(asset.id), status: openStatuses.join(','), limit: '5' });
    let features = [];
    try { features = (await getJSON(`/api/v1/reports/?${query}`)).features; } catch { features = []; }
    if (flow.asset !== asset) return;
    $('asset-reported-heading').textContent = interpolate(gettext('%(asset)s is already reported'),
      { asset: asset.label }, true);
    $('asset-report-list').replaceChildren(...features.map((feature) => duplicateItem(feature, 'asset')));
    $('asset-reported').hidden = features.length === 0;
    if (features.length) $('asset-reported').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  $('what-back').addEventListener('click', () => showStep('place'));
  $('cancel-report').addEventListener('click', end);
  $('start-report').addEventListener('click', start);
  $('done-close').addEventListener('click', () => { $('done').hidden = true; $('browse').hidden = false; });

  // --- step 3: details ---------------------------------------------------------------------

  $('what-next').addEventListener('click', () => {
    const notices = (flow.category.notices || []).filter((notice) => notice.kind === 'notice');
    $('details-notices').replaceChildren(...noticeItems(notices));
    $('details-notices').hidden = notices.length === 0;
    renderQuestions($('questions'), flow.category.questions || []);
    $('asset-summary').hidden = !flow.asset;
    $('asset-summary').textContent = flow.asset
      ? interpolate(gettext('About: %(asset)s'), { asset: flow.asset.label }, true) : '';
    $('anonymous-row').hidden = !flow.category.anonymous_allowed;
    showStep('details');
    $('description').focus();
  });
  $('details-back').addEventListener('click', () => showStep('what'));
  $('anonymous').addEventListener('change', () => {
    const anonymous = $('anonymous').checked;
    for (const id of ['reporter-name', 'reporter-email', 'reporter-phone']) $(id).disabled = anonymous;
  });

  $('photos').addEventListener('change', async () => {
    const files = [...$('photos').files].slice(0, limits.photosPerReport - flow.photos.length);
    for (const file of files) {
      const blob = await resizePhoto(file, limits.photoResizeSide);
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
      asset: 'asset-error',
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
      answers: collectAnswers($('questions')),
    };
    if (flow.asset) {  // the report is placed on the asset, where the crew goes
      payload.asset = flow.asset.id;
      payload.location.coordinates = flow.asset.location.coordinates;
    }
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
      { id: created.id,
        department: (created.properties.responsible_body || created.properties.department).name },
      true), true);
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
    $('submit-report').disabled = false;
    $('submit-progress').textContent = '';
    end();
    $('browse').hidden = true;
    $('done').hidden = false;
    $('done-message').textContent = message;
    const link = $('done-link');
    link.hidden = !published;
    link.href = `/reports/${id}`;
    link.textContent = interpolate(gettext('Follow report #%(id)s here'), { id }, true);
    $('done').focus();
    onSent();
  }

  return { isActive: () => flow.active };
}
