// Text search over the paragraphs and their amendments: the count, next and previous, each
// paragraph with a match marked, and the match shown highlighted in a non-editable preview at
// its paragraph (textareas cannot be highlighted inside; plain texts are highlighted in place
// too, with the CSS Custom Highlight API where the browser has it).
import { el, debounce } from './dom.js'
import { goToParagraph } from './nav.js'

const $ = (id) => document.getElementById(id)
const PREVIEW = 60

let ctx = null
let hits = []
let at = -1
let query = ''

/** `context`: `{model()}`. */
export function initSearch (context) {
  ctx = context
  const input = $('search-input')
  input.addEventListener('input', debounce(() => { query = input.value; run(true) }, 150))
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') { event.preventDefault(); step(event.shiftKey ? -1 : 1) }
    if (event.key === 'Escape') { input.value = ''; query = ''; run(false) }
  })
  $('search-next').addEventListener('click', () => step(1))
  $('search-prev').addEventListener('click', () => step(-1))
}

/** The text changed or the document was rebuilt: the matches again, the current one kept. */
export const searchChanged = debounce(() => run(false), 300)

/** After a rebuild: the marks again at once. */
export function afterRebuildSearch () {
  if (query) run(false)
}

function texts (p) {
  const out = [[p.kind === 'heading' ? 'heading' : 'paragraph', p.body]]
  for (const a of p.amendments) out.push([`amendment ${a.id}`, a.text], [`rationale of amendment ${a.id}`, a.rationale])
  return out
}

function run (fromStart) {
  const model = ctx.model()
  const needle = query.trim().toLowerCase()
  const before = hits[at]
  hits = []
  if (model && needle) {
    for (const p of model.paragraphs) {
      for (const [where, text] of texts(p)) {
        const lower = (text || '').toLowerCase()
        for (let i = lower.indexOf(needle); i !== -1; i = lower.indexOf(needle, i + needle.length)) {
          hits.push({ paragraph: p.id, label: p.label, where, text, start: i, end: i + needle.length })
        }
      }
    }
  }
  if (fromStart) at = hits.length ? 0 : -1
  else if (before) {
    const same = hits.findIndex((h) => h.paragraph === before.paragraph && h.where === before.where && h.start >= before.start)
    at = same !== -1 ? same : Math.min(at, hits.length - 1)
  } else at = Math.min(at, hits.length - 1)
  show(fromStart)
}

function step (by) {
  if (!hits.length) return
  at = (at + by + hits.length) % hits.length
  show(true)
}

function show (go) {
  for (const node of document.querySelectorAll('[data-search-hit]')) node.removeAttribute('data-search-hit')
  for (const node of document.querySelectorAll('[data-search-preview]')) node.remove()
  const count = $('search-count')
  count.dataset.count = String(hits.length)
  if (!query.trim()) {
    count.textContent = ''
    highlight([])
    return
  }
  count.textContent = hits.length ? `${at + 1} of ${hits.length} matches` : 'No matches'
  const marked = new Set(hits.map((h) => h.paragraph))
  for (const id of marked) {
    const node = document.querySelector(`#document > [data-paragraph="${CSS.escape(id)}"], #document > [data-heading="${CSS.escape(id)}"]`)
    if (node) node.dataset.searchHit = 'true'
  }
  highlight(hits)
  const hit = hits[at]
  if (!hit) return
  const node = document.querySelector(`#document > [data-paragraph="${CSS.escape(hit.paragraph)}"], #document > [data-heading="${CSS.escape(hit.paragraph)}"]`)
  if (!node) return
  node.dataset.searchHit = 'current'
  const from = Math.max(0, hit.start - PREVIEW)
  const to = Math.min(hit.text.length, hit.end + PREVIEW)
  const preview = el('p', { class: 'search-preview', 'data-search-preview': hit.paragraph },
    el('span', { class: 'where' }, `Match ${at + 1} of ${hits.length}, in the ${hit.where}: `),
    from > 0 ? '…' : '', hit.text.slice(from, hit.start),
    el('mark', {}, hit.text.slice(hit.start, hit.end)),
    hit.text.slice(hit.end, to), to < hit.text.length ? '…' : '')
  if (node.tagName === 'ARTICLE') node.querySelector('.head').after(preview)
  else node.after(preview)
  if (go) goToParagraph(hit.paragraph, { focus: false })
}

/** The matches in plain (non-editable) texts, highlighted in place. */
function highlight (list) {
  if (!window.CSS || !CSS.highlights || typeof Highlight === 'undefined') return
  const ranges = []
  const needle = query.trim().toLowerCase()
  if (needle) {
    for (const node of document.querySelectorAll('#document div.text[data-target], #document h2[data-target]')) {
      const textNode = node.firstChild
      if (!textNode || textNode.nodeType !== Node.TEXT_NODE) continue
      const lower = textNode.data.toLowerCase()
      for (let i = lower.indexOf(needle); i !== -1; i = lower.indexOf(needle, i + needle.length)) {
        const range = new Range()
        range.setStart(textNode, i)
        range.setEnd(textNode, i + needle.length)
        ranges.push(range)
      }
    }
  }
  if (ranges.length && list.length) CSS.highlights.set('search', new Highlight(...ranges))
  else CSS.highlights.delete('search')
}
