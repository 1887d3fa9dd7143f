// One task: the case's facts and what I may do now, accept (签收) or handle (处置) with notes and before/after photos.
// Each step carries the version the phone saw, so a case someone else moved meanwhile is refused (409) and nothing
// is done twice; it goes through the outbox, so it is kept on the phone without signal. The page carries the case
// as it was when opened; with signal it is read again.

import { el } from '../desk/common.js';
import { photoItems } from './ui.js';

export async function taskScreen(root, config, ui, outbox) {
  const { say, enumLabel, when, message } = ui;
  let props = { ...config.case.properties };
  const facts = el('dl', { className: 'm-facts', id: 'facts' });
  const actions = el('div', { className: 'm-actions', id: 'actions' });
  const status = el('p', { className: 'm-message', id: 'task-message', hidden: true, role: 'status' });
  const back = el('a', { className: 'm-back', href: config.links.tasks, text: say('back') });
  root.append(back, el('h1', { text: `${say('task')} ${config.id.slice(0, 8)}` }), facts, status, actions);

  const incidentUrl = config.endpoints.incident.replace('{id}', encodeURIComponent(config.id));
  const transitionUrl = config.endpoints.transition.replace('{id}', encodeURIComponent(config.id));
  const photosUrl = config.endpoints.photos.replace('{id}', encodeURIComponent(config.id));

  function fact(label, text, extra = {}) {
    return [el('dt', { text: label }), el('dd', { text: text || '—', ...extra })];
  }

  function drawFacts() {
    facts.replaceChildren(
      ...fact(say('category'), config.categories[props.category] || props.category),
      ...fact(say('severity'), enumLabel('severity', props.severity)),
      ...fact(say('status'), enumLabel('status', props.status), { id: 'status', dataset: { status: props.status } }),
      ...fact(say('warning'), props.warning ? enumLabel('warning', props.warning) : '',
        { className: `m-badge m-badge-${props.warning || 'none'}` }),
      ...fact(say('due_at'), when(props.due_at)),
      ...fact(say('grid'), props.grid_code),
      ...fact(say('address'), props.address),
      ...(props.extra && typeof props.extra.accuracy_m === 'number'
        ? fact(say('location'), say('accuracy', { m: Math.round(props.extra.accuracy_m) })) : []),
      ...fact(say('description'), props.description, { className: 'm-text' }),
      ...fact(say('reported_at'), when(props.reported_at)));
    document.documentElement.dataset.version = String(props.version);
  }

  async function act(action, fields, photoGroups) {
    const label = `${say(action)} · ${config.id.slice(0, 8)}`;
    const body = { action, version: props.version, ...fields };
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    const seq = await outbox.add({ kind: 'transition', label, method: 'POST', url: transitionUrl, json: body });
    for (const [kind, files] of photoGroups) {
      for (const item of photoItems(files, photosUrl, kind, label, seq)) await outbox.add(item);
    }
    await outbox.flush();
    const done = outbox.results.get(seq);
    const refused = outbox.refused.find((r) => r.seq === seq);
    if (done) {
      props = { ...done.properties };
      message(status, say(action === 'accept' ? 'accepted' : 'handled'), 'ok');
    } else if (refused) {
      message(status, refused.status === 409 ? say('conflict', { detail: refused.detail })
        : say('error', { detail: refused.detail }), 'error');
      await refresh();
    } else {
      // Kept on the phone: the next step may be prepared on the version this one will make.
      props = { ...props, status: action === 'accept' ? 'accepted' : 'handled', version: props.version + 1,
        my_actions: action === 'accept' ? ['handle'] : [] };
      message(status, say('queued_action', { action: say(action) }), 'queued');
    }
    draw();
  }

  function drawActions() {
    const mine = props.my_actions || [];
    const parts = [];
    if (mine.includes('accept')) {
      parts.push(el('button', { type: 'button', className: 'm-button m-primary', id: 'accept', text: say('accept'),
        onClick: () => act('accept', {}, []) }));
    }
    if (mine.includes('handle')) {
      const note = el('textarea', { id: 'note', rows: 4, maxLength: 2000, placeholder: say('note_placeholder') });
      const before = ui.photoPicker(say('before'), config.max_photos);
      const after = ui.photoPicker(say('after'), config.max_photos);
      const send = el('button', { type: 'submit', className: 'm-button m-primary', id: 'handle', text: say('handle') });
      const form = el('form', { className: 'm-form', id: 'handle-form', noValidate: true },
        el('label', { className: 'm-field' }, el('span', { text: say('note') }), note),
        before.node, after.node, send);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        if (!note.value.trim()) { message(status, say('note_placeholder'), 'error'); note.focus(); return; }
        act('handle', { note: note.value.trim() },
          [['before', before.files()], ['after', after.files()]]);
      });
      parts.push(form);
    }
    if (!parts.length) parts.push(el('p', { className: 'm-hint', id: 'no-actions', text: say('no_actions') }));
    actions.replaceChildren(...parts);
  }

  function draw() {
    drawFacts();
    drawActions();
  }

  async function refresh() {
    if (!navigator.onLine) return;
    try {
      const resp = await fetch(incidentUrl, { credentials: 'same-origin', cache: 'no-store',
        headers: { Accept: 'application/json' } });
      if (resp.status === 401) { window.location.reload(); return; }
      if (resp.ok) props = { ...(await resp.json()).properties };
    } catch (error) {
      // no connection after all: the case as the page carried it
    }
  }

  draw();
}
