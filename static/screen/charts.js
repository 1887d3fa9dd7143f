// The panels' charts, drawn by the vendored Apache ECharts (static/vendor/echarts, see VENDORED.md) with its SVG
// renderer: cases per day against the period before, and the window's cases by category and by source.
//
// Under the page's CSP (no inline style attributes, no eval): ECharts' SVG renderer writes styles through the
// CSSOM (element.style), never a style="" attribute, and evaluates no code. Labels come from the data (category
// names, from imports too) and are drawn as SVG text nodes; no tooltip is shown (a wall has no pointer, and
// ECharts' tooltips write HTML), and no label goes through a formatter template or rich-text markup.
/* global echarts */

const SCRIPT = new URL('../vendor/echarts/echarts.min.js', import.meta.url).href;
const COLOURS = { text: '#d7ecff', muted: '#7f9bb8', edge: '#1e4a7a', accent: '#4fc3f7', previous: '#ffb300',
  bars: '#29b6f6', sources: '#00e676' };
const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif';
const BAR_ROWS = 8; // rows of a bar chart legible in its panel; beyond, the smallest are summed into the last row

let loading = null;

/** The ECharts library, loaded once on first use (a classic script from this server, which the CSP allows). */
export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = SCRIPT;
      script.onload = () => resolve(window.echarts);
      script.onerror = () => { loading = null; reject(new Error(`${SCRIPT} did not load`)); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

/** Pixels of 1rem now (the wall's type scale: 16 px at 1920 wide, 32 px at 3840). */
function rem() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
}

function axisText(size) {
  return { color: COLOURS.muted, fontSize: size, fontFamily: FONT };
}

/** Cases per day: this period as a filled line, the period before as a dashed one, day labels as MM-DD. */
function trendOption(trend, words) {
  const size = 0.85 * rem();
  const labels = trend.days.map((day) => day.slice(5));
  return {
    animation: false,
    textStyle: { fontFamily: FONT, fontSize: size, color: COLOURS.text },
    tooltip: { show: false },
    legend: { top: 0, right: 0, itemWidth: size * 1.6, itemHeight: size * 0.6,
      textStyle: { color: COLOURS.text, fontSize: size, fontFamily: FONT },
      data: [words.current, words.previous] },
    grid: { left: size * 0.4, right: size * 0.8, top: size * 2.2, bottom: size * 0.2, containLabel: true },
    xAxis: { type: 'category', data: labels, boundaryGap: false, axisLabel: { ...axisText(size), interval: 6 },
      axisLine: { lineStyle: { color: COLOURS.edge } }, axisTick: { show: false } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: axisText(size),
      splitLine: { lineStyle: { color: COLOURS.edge, opacity: 0.5 } } },
    series: [
      { name: words.current, type: 'line', data: trend.current, symbol: 'circle', symbolSize: size * 0.4,
        lineStyle: { color: COLOURS.accent, width: size * 0.18 }, itemStyle: { color: COLOURS.accent },
        areaStyle: { color: COLOURS.accent, opacity: 0.15 } },
      { name: words.previous, type: 'line', data: trend.previous, symbol: 'none',
        lineStyle: { color: COLOURS.previous, width: size * 0.12, type: 'dashed' },
        itemStyle: { color: COLOURS.previous } },
    ],
  };
}

/** Horizontal bars, largest on top, each with its count at its end. rows: [{ label, count }]. */
function barOption(rows, colour) {
  const size = 0.85 * rem();
  return {
    animation: false,
    textStyle: { fontFamily: FONT, fontSize: size, color: COLOURS.text },
    tooltip: { show: false },
    grid: { left: size * 0.2, right: size * 2.6, top: size * 0.2, bottom: size * 0.2, containLabel: true },
    xAxis: { type: 'value', show: false, minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.label),
      axisLabel: { color: COLOURS.text, fontSize: size, fontFamily: FONT, width: size * 7, overflow: 'truncate' },
      axisLine: { show: false }, axisTick: { show: false } },
    series: [{ type: 'bar', data: rows.map((r) => r.count), barMaxWidth: size * 1.1,
      itemStyle: { color: colour, borderRadius: [0, size * 0.2, size * 0.2, 0] },
      label: { show: true, position: 'right', color: COLOURS.text, fontSize: size, fontFamily: FONT } }],
  };
}

/** Bar rows (most first, as the server orders them) with their labels; past BAR_ROWS, the smallest summed into one
 *  row named by ``rest`` ({n}: how many), so every case is counted somewhere. */
function rowsOf(ranked, label, rest) {
  const rows = ranked.map((r) => ({ key: r.key, label: label(r.key), count: r.count }));
  if (rows.length <= BAR_ROWS) return rows;
  const tail = rows.slice(BAR_ROWS - 1);
  return [...rows.slice(0, BAR_ROWS - 1), { key: '', label: rest.replace('{n}', String(tail.length)),
    count: tail.reduce((sum, r) => sum + r.count, 0) }];
}

/** One chart in a container, drawn again (at the wall's type size) when the container changes size. */
class Chart {
  constructor(lib, node) {
    this.chart = lib.init(node, null, { renderer: 'svg' });
    this.make = null;
    new ResizeObserver(() => { // eslint-disable-line no-new
      this.chart.resize();
      if (this.make) this.chart.setOption(this.make(), { notMerge: true });
    }).observe(node);
  }

  draw(make) {
    this.make = make;
    this.chart.setOption(make(), { notMerge: true });
  }
}

/** The three charts of the panels; draw() takes the panels' answer. */
export class Charts {
  /** nodes: { trend, categories, sources } containers; words: the page's words. */
  constructor(lib, nodes, words) {
    this.words = words;
    this.trend = new Chart(lib, nodes.trend);
    this.categories = new Chart(lib, nodes.categories);
    this.sources = new Chart(lib, nodes.sources);
  }

  draw(answer) {
    const w = this.words;
    const categories = rowsOf(answer.breakdown.by_category, (key) => (w.enums.category && w.enums.category[key]) || key,
      w.panels.rest);
    const sources = rowsOf(answer.breakdown.by_source, (key) => w.panels.sources[key] || key, w.panels.rest);
    this.trend.draw(() => trendOption(answer.trend, w.panels));
    this.categories.draw(() => barOption(categories, COLOURS.bars));
    this.sources.draw(() => barOption(sources, COLOURS.sources));
  }
}
