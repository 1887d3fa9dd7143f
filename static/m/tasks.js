// My tasks: the cases waiting for me to accept or handle, soonest due first, each with its warning colour. The
// last list seen is kept on the phone and shown, with its time, when there is no signal.

import { el } from '../desk/common.js';
import { kvGet, kvSet } from './outbox.js';

const POLL_MS = 30000;

export async function tasksScreen(root, config, ui) {
  const { say, enumLabel, when } = ui;
  const note = el('p', { className: 'm-hint', id: 'tasks-note', hidden: true });
  const list = el('ul', { className: 'm-tasks', id: 'tasks' });
  const empty = el('p', { className: 'm-empty', id: 'tasks-empty', hidden: true, text: say('none') });
  root.append(el('h1', { text: say('tasks') }), note, list, empty);

  function card(item) {
    const category = config.categories[item.category] || item.category;
    const due = item.due_at ? say('due', { t: when(item.due_at) }) : say('no_due');
    return el('li', { className: `m-task m-warn-${item.warning || 'none'}`, dataset: { id: item.id } },
      el('a', { href: `${config.links.task}${encodeURIComponent(item.id)}${config.lang === 'en' ? '?lang=en' : ''}` },
        el('span', { className: 'm-task-head' },
          el('strong', { text: category }),
          el('span', { className: `m-badge m-badge-${item.warning || 'none'}`,
            text: item.warning ? enumLabel('warning', item.warning) : '' })),
        el('span', { className: 'm-task-what', text: item.description || item.address || '' }),
        el('span', { className: 'm-task-meta' },
          el('span', { text: enumLabel('status', item.status) }),
          el('span', { text: enumLabel('severity', item.severity) }),
          el('span', { className: 'm-due', text: due }))));
  }

  function show(answer, asOf) {
    list.replaceChildren(...answer.items.map(card));
    empty.hidden = answer.items.length > 0;
    note.hidden = !asOf;
    note.textContent = asOf ? say('as_of', { t: when(asOf) }) : '';
  }

  async function load() {
    if (navigator.onLine) {
      try {
        const resp = await fetch(config.endpoints.tasks, { credentials: 'same-origin', cache: 'no-store',
          headers: { Accept: 'application/json' } });
        if (resp.status === 401) { window.location.reload(); return; }
        if (resp.ok) {
          const answer = await resp.json();
          await kvSet(`tasks:${config.person.account}`, answer);
          show(answer, null);
          return;
        }
      } catch (error) {
        // no connection after all: the list kept on the phone below
      }
    }
    const kept = await kvGet(`tasks:${config.person.account}`);
    if (kept) show(kept, kept.now);
    else show({ items: [] }, null);
  }

  await load();
  window.setInterval(load, POLL_MS);
  window.addEventListener('online', load);
}
