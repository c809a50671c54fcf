// Small DOM helpers shared by the pages: element building, and status badges whose colours
// come from the stylesheet's custom properties (--status-<code>), the one definition of them.

export const $ = (id) => document.getElementById(id);

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// A status's colour as the stylesheet defines it (for the map, which cannot use classes).
export function statusColour(status) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--status-${status}`).trim()
    || '#333';
}

export function statusDot(status) {
  return el('span', { class: `dot dot-${status}`, 'aria-hidden': 'true' });
}

export function statusBadge(status, labels) {
  return el('span', { class: `status status-${status}` }, statusDot(status), labels[status] || status);
}
