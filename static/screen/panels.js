// The panels a command centre reads beside the map: on the right, response and handling times beside the closure
// and on-time rates, and the rolling feed of the newest cases; along the bottom, cases per day against the period
// before, and the window's cases by category and by source. One answer (/api/screen/panels) fills them all; the
// page polls it with the rest of the wall (main.js), so an unchanged answer costs a 304 and no redraw.

import { Charts, loadECharts } from './charts.js';
import { el, fmt, percent } from './dom.js';
import { Feed } from './feed.js';

const STYLE = new URL('./panels.css', import.meta.url).href;
const HOUR_S = 3600;

/** The panels' style sheet, linked once (a file from this server: the CSP allows it, as it would a <link>). */
function linkStyle() {
  if (document.querySelector(`link[href="${STYLE}"]`)) return;
  document.head.appendChild(el('link', { rel: 'stylesheet', href: STYLE }));
}

/** A duration for a leader: minutes under an hour, hours under two days, else days (one decimal). */
export function duration(seconds, words) {
  if (seconds === null || seconds === undefined) return words.none;
  if (seconds < HOUR_S) return fmt(words.minutes, { n: Math.max(0, Math.round(seconds / 60)) });
  if (seconds < 48 * HOUR_S) return fmt(words.hours, { n: (seconds / HOUR_S).toFixed(1) });
  return fmt(words.days, { n: (seconds / 86400).toFixed(1) });
}

function figure(key, label) {
  const value = el('div', { className: 'ms-figure-value' }, '—');
  return { node: el('div', { className: 'ms-figure', dataset: { figure: key } }, el('div', { className: 'ms-label' },
    label), value), value };
}

export class Panels {
  /** ctx: { map, details, words, lang, timezone, incidentStyle (the incidents layer's colours, or null) }. */
  constructor(ctx) {
    linkStyle();
    this.ctx = ctx;
    const w = ctx.words;
    const p = w.panels;
    this.figures = Object.fromEntries([
      ['response_median', `${p.response} · ${p.median}`], ['response_p90', `${p.response} · ${p.p90}`],
      ['handling_median', `${p.handling} · ${p.median}`], ['handling_p90', `${p.handling} · ${p.p90}`],
      ['closure_rate', p.closure_rate], ['on_time_rate', p.on_time_rate],
    ].map(([key, label]) => [key, figure(key, label)]));
    this.timesTitle = el('h2', {}, p.times);
    this.list = el('ol', { className: 'ms-feed-list' });
    const side = el('aside', { className: 'ms-panel ms-side' }, this.timesTitle,
      el('div', { className: 'ms-figures' }, Object.values(this.figures).map((f) => f.node)),
      el('p', { className: 'ms-figures-note' }, p.spans),
      el('h2', {}, p.feed), this.list);
    this.trendTitle = el('h3', {}, p.trend);
    this.trendTotal = el('span', { className: 'ms-chart-note' });
    this.categoryTitle = el('h3', {}, p.by_category);
    this.sourceTitle = el('h3', {}, p.by_source);
    const slot = (name) => el('div', { className: `ms-chart ms-chart-${name}`, dataset: { chart: name } });
    this.nodes = { trend: slot('trend'), categories: slot('categories'), sources: slot('sources') };
    const bottom = el('section', { className: 'ms-panel ms-charts' },
      el('div', { className: 'ms-chart-box ms-box-trend' }, el('div', { className: 'ms-chart-head' }, this.trendTitle,
        this.trendTotal), this.nodes.trend),
      el('div', { className: 'ms-chart-box' }, this.categoryTitle, this.nodes.categories),
      el('div', { className: 'ms-chart-box' }, this.sourceTitle, this.nodes.sources));
    const root = document.getElementById('screen-ui');
    root.append(side, bottom);
    document.documentElement.classList.add('ms-with-panels');
    this.feed = new Feed(this.list, { map: ctx.map, details: ctx.details, words: w, lang: ctx.lang,
      timezone: ctx.timezone, style: ctx.incidentStyle || { warning_colors: {}, status_colors: {}, color: '#ffc400' } });
    this.charts = null;
    this.chartsReady = loadECharts().then((lib) => { this.charts = new Charts(lib, this.nodes, w); });
  }

  /** Draw one answer of /api/screen/panels for the window ``windowName``. */
  async show(answer, windowName) {
    const w = this.ctx.words;
    const p = w.panels;
    const span = w[`window_${windowName}`] || windowName;
    this.timesTitle.textContent = `${p.times} · ${span}`;
    this.categoryTitle.textContent = `${p.by_category} · ${span}`;
    this.sourceTitle.textContent = `${p.by_source} · ${span}`;
    this.showTimes(answer.times);
    this.feed.show(answer.feed);
    const t = answer.trend;
    const change = t.previous_total ? `${t.total >= t.previous_total ? '+' : ''}${(100 * (t.total - t.previous_total)
      / t.previous_total).toFixed(1)}%` : p.none;
    this.trendTotal.textContent = `${fmt(p.trend_total, { current: t.total, previous: t.previous_total })} · ${fmt(
      p.change, { change })}`;
    Object.assign(this.trendTotal.dataset, { current: String(t.total), previous: String(t.previous_total) });
    await this.chartsReady;
    this.charts.draw(answer);
    this.nodes.trend.dataset.drawn = answer.today; // what the wall's tests wait for
  }

  showTimes(times) {
    const p = this.ctx.words.panels;
    const set = (key, text, raw) => {
      this.figures[key].value.textContent = text;
      this.figures[key].value.dataset.value = raw === null || raw === undefined ? '' : String(raw);
    };
    for (const [name, key] of [['response', 'response_s'], ['handling', 'handling_s']]) {
      set(`${name}_median`, duration(times[key].median, p), times[key].median);
      set(`${name}_p90`, duration(times[key].p90, p), times[key].p90);
    }
    set('closure_rate', percent(times.closure_rate), times.closure_rate);
    set('on_time_rate', percent(times.on_time_rate), times.on_time_rate);
  }
}
