// A category's extra questions (its Open311 attributes) as form fields, and their answers.

/* global gettext */

import { el } from './dom.js';

export function renderQuestions(box, questions) {
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

export function collectAnswers(box) {
  const answers = {};
  for (const question of box.querySelectorAll('.question')) {
    const { code, type } = question.dataset;
    if (type === 'multivaluelist') {
      const chosen = [...question.querySelectorAll('input:checked')].map((i) => i.value);
      if (chosen.length) answers[code] = chosen;
    } else if (type === 'singlevaluelist') {
      const chosen = question.querySelector('input:checked');
      if (chosen) answers[code] = chosen.value;
    } else {
      const value = question.querySelector('input,textarea').value.trim();
      if (value) answers[code] = type === 'number' ? Number(value) : type === 'datetime' ? new Date(value).toISOString() : value;
    }
  }
  return answers;
}
