// The address search combobox: suggestions from /api/v1/addresses/ as the citizen types,
// operable by keyboard (arrows, Enter, Escape) as the ARIA combobox pattern asks.

/* global gettext */

import { getJSON } from './api.js';
import { el } from './dom.js';

export function setupAddressSearch({ input, list, onChoose }) {
  let timer = null;
  let results = [];
  let active = -1;

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function choose(index) {
    const address = results[index];
    if (!address) return;
    input.value = address.label;
    close();
    onChoose(address);
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      try {
        results = (await getJSON(`/api/v1/addresses/?q=${encodeURIComponent(q)}&limit=8`)).results;
      } catch { results = []; }
      list.replaceChildren(...results.map((address, index) => el('li', {
        id: `address-${index}`, role: 'option', 'aria-selected': 'false',
        onmousedown: (event) => { event.preventDefault(); choose(index); },
      }, address.label)));
      if (!results.length) {
        list.append(el('li', { class: 'muted', role: 'option', 'aria-disabled': 'true' },
          gettext('No address found')));
      }
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }, 200);
  });

  input.addEventListener('keydown', (event) => {
    if (list.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + results.length) % Math.max(results.length, 1);
      list.querySelectorAll('[role=option]').forEach((option, index) => {
        option.setAttribute('aria-selected', String(index === active));
      });
      input.setAttribute('aria-activedescendant', `address-${active}`);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      choose(active >= 0 ? active : 0);
    } else if (event.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
}
