// How far the negotiation has come: the progress line ("31 agreed ad ref · 14 open · 9
// bracketed", from GET /progress, read again once changes pause), the trend day by day as a
// small chart (inline SVG built node by node), and, folded away, the counts per section and
// per theme and the amendments by status.
import { el, debounce } from './dom.js'
import { get } from './api.js'

const $ = (id) => document.getElementById(id)
const SVG = 'http://www.w3.org/2000/svg'
const ORDER = [
  ['agreed', 'agreed'], ['agreed-ad-ref', 'agreed ad ref'], ['agreed-pending', 'agreed pending'],
  ['open', 'open'], ['held', 'held'], ['deleted', 'deleted']
]
// What the chart draws, and how.
const LINES = [
  ['agreed', 'agreed (ad ref or not)', (p) => (p.by_status.agreed || 0) + (p.by_status['agreed-ad-ref'] || 0)],
  ['bracketed', 'bracketed', (p) => p.bracketed],
  ['open-amendments', 'open amendments', (p) => p.open_amendments]
]

let ctx = null
const state = { asked: 0 }

/** `context`: `{conn}`. */
export function initProgress (context) {
  ctx = context
}

/** The model changed: the counts are read again once changes pause. */
export const progressChanged = debounce(() => refresh(), 500)

async function refresh () {
  const asked = ++state.asked
  let progress
  try {
    progress = await get(ctx.conn, '/progress')
  } catch (error) {
    if (asked === state.asked) $('progress').hidden = true
    return
  }
  if (asked !== state.asked) return
  $('progress').hidden = false
  renderLine(progress)
  renderTrend(progress.trend)
  renderDetail(progress)
  $('progress').dataset.ready = String(asked)
}

function renderLine (progress) {
  const counts = progress.overall
  const parts = []
  for (const [status, name] of ORDER) {
    const n = counts.by_status[status] || 0
    if (n) parts.push([el('span', { 'data-count': status }, String(n)), ` ${name}`])
  }
  parts.push([el('span', { 'data-count': 'bracketed' }, String(counts.bracketed)), ' bracketed'])
  const line = $('progress-line')
  line.replaceChildren(...parts.flatMap((part, i) => i ? [' · ', ...part] : part))
  line.title = progress.summary
}

function svg (tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value))
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  return node
}

function renderTrend (trend) {
  const box = $('trend')
  box.hidden = trend.length === 0
  if (!trend.length) return box.replaceChildren()
  const [width, height, pad] = [320, 64, 6]
  const top = Math.max(1, ...trend.map((p) => p.paragraphs), ...trend.map((p) => p.open_amendments))
  const x = (i) => trend.length === 1 ? width / 2 : pad + i * (width - 2 * pad) / (trend.length - 1)
  const y = (v) => height - pad - v * (height - 2 * pad) / top
  const first = trend[0]
  const last = trend[trend.length - 1]
  const described = LINES.map(([, name, value]) => `${name} ${value(first)} to ${value(last)}`).join(', ')
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `Progress from ${first.day} to ${last.day}: ${described}.`
  }, svg('line', { x1: 0, y1: height - pad, x2: width, y2: height - pad, class: 'axis' }))
  for (const [id, name, value] of LINES) {
    const points = trend.map((p, i) => `${x(i).toFixed(1)},${y(value(p)).toFixed(1)}`).join(' ')
    const series = svg('g', { class: `series ${id}`, 'data-series': id }, svg('title', {}, name))
    if (trend.length > 1) series.append(svg('polyline', { points, fill: 'none' }))
    trend.forEach((p, i) => series.append(svg('circle', { cx: x(i).toFixed(1), cy: y(value(p)).toFixed(1), r: 2.5 },
      svg('title', {}, `${p.day}: ${value(p)} ${name}`))))
    chart.append(series)
  }
  const legend = el('ul', { class: 'legend' }, LINES.map(([id, name, value]) =>
    el('li', { class: `series ${id}` }, `${name}: ${value(last)}`)))
  box.replaceChildren(chart, legend)
}

function renderDetail (progress) {
  const columns = ORDER.filter(([status]) => status !== 'deleted')
  const row = (kind, id, name, counts) => el('tr', { [`data-${kind}`]: id },
    el('th', { scope: 'row' }, name),
    el('td', {}, String(counts.paragraphs)),
    ...columns.map(([status]) => el('td', { 'data-count': status }, String(counts.by_status[status] || 0))),
    el('td', { 'data-count': 'bracketed' }, String(counts.bracketed)))
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Part of the text'), el('th', { scope: 'col' }, 'paragraphs'),
    ...columns.map(([, name]) => el('th', { scope: 'col' }, name)), el('th', { scope: 'col' }, 'bracketed'))
  const rows = [
    ...progress.sections.map((s) => row('section', s.heading, s.title || 'Section', s)),
    ...progress.themes.map((t) => row('theme', t.theme, `Theme: ${t.name}`, t))
  ]
  const amendments = Object.entries(progress.amendments).filter(([, n]) => n)
    .map(([status, n]) => `${n} ${status}`).join(', ')
  $('progress-detail-body').replaceChildren(
    rows.length ? el('table', { class: 'progress-table' }, el('thead', {}, head), el('tbody', {}, rows)) : null,
    el('p', { 'data-amendments': '' }, `Amendments: ${amendments || 'none yet'}.`))
}
