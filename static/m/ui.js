// What the phone screens share: the top bar with the person and the outbox's state, the bottom tabs, messages,
// local times, and the photo picker. Every text is set with textContent (el of the desk's module).

import { el, sayer } from '../desk/common.js';

export function phone(config) {
  const say = sayer(config.words);
  const enumLabel = (kind, value) => (config.words.enums[kind] || {})[value] || value;

  // A UTC ISO time as the local time of the incidents' zone: "12-07 14:30".
  const clock = new Intl.DateTimeFormat(config.lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: config.timezone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  const when = (iso) => (iso ? clock.format(new Date(iso)) : '');

  // Logging out clears what this phone kept (the server sends Clear-Site-Data): unsent items would be lost.
  function leave(event) {
    const waiting = Number(document.getElementById('outbox').dataset.count);
    if (waiting && !window.confirm(say('logout_waiting', { n: waiting }))) event.preventDefault();
  }

  function bar() {
    const outbox = el('p', { id: 'outbox', className: 'm-outbox', role: 'status', hidden: true, dataset: { count: '0' } });
    const net = el('p', { id: 'net', className: 'm-net', hidden: navigator.onLine, text: say('offline') });
    const header = el('header', { className: 'm-bar' },
      el('div', { className: 'm-who' },
        el('strong', { text: config.person.name }),
        el('span', { text: [config.person.role_label, config.person.grid].filter(Boolean).join(' · ') })),
      el('nav', { className: 'm-links' },
        el('a', { href: config.links.other_lang, text: config.words.other_lang,
          lang: config.lang === 'zh' ? 'en' : 'zh-CN' }),
        el('a', { href: config.links.logout, id: 'logout', text: say('logout'), onClick: leave })));
    const tabs = el('nav', { className: 'm-tabs' }, ...['tasks', 'report', 'patrol'].map((key) => el('a', {
      href: config.links[key], className: 'm-tab', text: say(key),
      ...(config.screen === key || (key === 'tasks' && config.screen === 'task') ? { 'aria-current': 'page' } : {}),
    })));
    const main = el('main', { className: 'm-main', id: 'main' });
    document.body.append(header, net, outbox, main, tabs);
    window.addEventListener('online', () => { net.hidden = true; });
    window.addEventListener('offline', () => { net.hidden = false; });
    return main;
  }

  // The outbox's state as the bar shows it: "待发送 n 条", and what the server refused.
  function showOutbox(state) {
    const box = document.getElementById('outbox');
    if (!box) return;
    box.dataset.count = String(state.waiting);
    box.replaceChildren();
    const lines = [];
    if (state.waiting) lines.push(el('span', { className: 'm-waiting', text: say('outbox', { n: state.waiting }) }));
    if (state.waiting && state.sending) lines.push(el('span', { text: say('sending') }));
    if (state.waiting && state.login) lines.push(el('a', { href: config.links.login, text: say('login_again') }));
    for (const r of state.refused) {
      lines.push(el('span', { className: 'm-refused', text: say('refused', {
        what: (config.words.kinds || {})[r.kind] || r.kind, detail: r.detail }) }));
    }
    box.append(...lines);
    box.hidden = lines.length === 0;
  }

  // A message under a form: kind ok, error or queued.
  function message(box, text, kind) {
    box.textContent = text;
    box.className = `m-message m-${kind}`;
    box.hidden = !text;
  }

  // Up to `max` photos taken or chosen; `picker.files()` the Blobs kept, with their previews (blob: URLs);
  // `picker.clear()` lets them go.
  function photoPicker(label, max) {
    const kept = [];
    const list = el('ul', { className: 'm-photos' });
    const input = el('input', { type: 'file', accept: 'image/*', multiple: true, className: 'm-file' });
    const count = el('span', { className: 'm-hint' });
    const draw = () => {
      list.replaceChildren(...kept.map((item, i) => el('li', {},
        el('img', { src: item.url, alt: '' }),
        el('button', { type: 'button', className: 'm-remove', text: say('remove'),
          onClick: () => { URL.revokeObjectURL(item.url); kept.splice(i, 1); draw(); } }))));
      count.textContent = `${kept.length} / ${max}`;
      input.disabled = kept.length >= max;
    };
    input.addEventListener('change', () => {
      for (const file of [...input.files].slice(0, max - kept.length)) {
        kept.push({ blob: file, name: file.name || 'photo.jpg', url: URL.createObjectURL(file) });
      }
      input.value = '';
      draw();
    });
    draw();
    const node = el('fieldset', { className: 'm-field' }, el('legend', { text: label }),
      el('label', { className: 'm-button m-secondary' }, el('span', { text: say('add_photo') }), input), count, list);
    // Emptied once a report has taken its photos (kept in the outbox by then).
    const clear = () => {
      for (const item of kept.splice(0)) URL.revokeObjectURL(item.url);
      draw();
    };
    return { node, files: () => kept.map(({ blob, name }) => ({ blob, name })), clear };
  }

  return { say, enumLabel, when, bar, showOutbox, message, photoPicker };
}

// The outbox items for `photos` of one case (`url` names the case, or {parent} until it is sent).
export function photoItems(photos, url, kind, label, parent) {
  return photos.map(({ blob, name }, i) => ({
    kind: 'photo', label: `${label} ${i + 1}`, method: 'POST', url, parent,
    form: { fields: { kind }, file: 'photo', blob, filename: name },
  }));
}
