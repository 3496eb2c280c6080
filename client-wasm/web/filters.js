// Which paragraphs the text shows: all, open ones, bracketed ones (open amendments or wording
// in square brackets), locked ones, those with this mission's amendments, or those changed
// since a revision (the server's comparison of that revision with the live text). Headings
// stay, to keep the sections readable; the count says how many paragraphs are shown.
import { el } from './dom.js'
import { get } from './api.js'

const $ = (id) => document.getElementById(id)

let ctx = null
// The paragraphs changed since the revision chosen (ids), once the server answered.
let changed = null
// Whether the last pass hid anything (a filter was chosen).
let filtered = false
let changedFor = null
let asked = 0
let sinceFor = null

/** `context`: `{conn, model(), mission()}`. */
export function initFilters (context) {
  ctx = context
  $('filter').addEventListener('change', () => { since(); apply() })
  $('filter-since').addEventListener('change', () => { changed = null; changedFor = null; since(); apply() })
}

/** Shows every paragraph again (going to one the filter hides). */
export function clearFilter () {
  $('filter').value = ''
  since()
  apply()
}

function since () {
  const on = $('filter').value === 'changed'
  $('filter-since').hidden = !on
  $('filter-since-label').hidden = !on
  const from = $('filter-since').value
  if (on && from && changedFor !== from) load(from)
}

async function load (from) {
  const mine = ++asked
  if (changedFor !== from) changed = null
  changedFor = from
  try {
    const comparison = await get(ctx.conn, `/compare?from=${encodeURIComponent(from)}&to=live`)
    if (mine !== asked) return
    changed = new Set(comparison.paragraphs
      .filter((p) => p.operation !== 'unchanged' || p.moved || p.renumbered || p.status_from !== p.status_to)
      .map((p) => p.id))
  } catch (error) {
    if (mine !== asked) return
    changed = new Set()
    $('filter-count').textContent = `The comparison could not be made: ${error.message}`
    changedFor = null
    return
  }
  apply()
}

/** The model was re-read: the revisions to compare with, and the filter applied again. */
export function updateFilters (model) {
  const published = model.revisions.published || []
  const key = published.join(',')
  if (key !== sinceFor) {
    sinceFor = key
    const select = $('filter-since')
    const chosen = select.value
    select.replaceChildren(...published.map((id) => el('option', { value: id }, id)).reverse())
    if (published.includes(chosen)) select.value = chosen
    $('filter').querySelector('[value="changed"]').disabled = published.length === 0
  }
  if ($('filter').value === 'changed' && changedFor && changedFor === $('filter-since').value) {
    // The live text moved on: ask again (the paragraphs shown stay until the answer).
    load(changedFor)
  }
  apply()
}

function keep (p, filter, mission) {
  switch (filter) {
    case 'open': return p.status === 'open'
    // As the progress counts them: an open amendment, or wording still in square brackets.
    case 'bracketed': return p.status !== 'deleted' && (p.amendments.some((a) => a.status === 'open') || (p.body || '').includes('['))
    case 'locked': return !!p.lock
    case 'mine': return p.amendments.some((a) => a.sponsors.includes(mission))
    case 'changed': return !changed || changed.has(p.id)
    default: return true
  }
}

/** Hides the paragraphs the filter leaves out. */
export function apply () {
  const model = ctx.model()
  if (!model) return
  const filter = $('filter').value
  const mission = ctx.mission()
  let shown = 0
  let total = 0
  // No filter now or before: every paragraph is shown already (new elements start shown).
  if (!filter && !filtered) {
    for (const p of model.paragraphs) if (p.kind !== 'heading') total++
    const count = $('filter-count')
    count.dataset.shown = String(total)
    count.textContent = ''
    document.body.dataset.filter = ''
    return
  }
  filtered = !!filter
  // One pass over the page's paragraphs, not one lookup each (hundreds on a large text).
  const nodes = new Map()
  for (const node of document.querySelectorAll('#document > [data-paragraph]')) nodes.set(node.dataset.paragraph, node)
  for (const p of model.paragraphs) {
    if (p.kind === 'heading') continue
    total++
    const node = nodes.get(p.id)
    const on = keep(p, filter, mission)
    if (on) shown++
    if (node) node.toggleAttribute('data-filtered-out', !on)
  }
  const count = $('filter-count')
  count.dataset.shown = String(shown)
  if (!filter) count.textContent = ''
  else if (filter === 'changed' && !changed) count.textContent = 'Comparing…'
  else count.textContent = `${shown} of ${total} paragraphs shown`
  document.body.dataset.filter = filter
}
