// The theme filter: a select of the document's themes that shows only the paragraphs tagged
// with the chosen one (a tagged heading brings its section), in the text and in the outline,
// as `GET /api/docs/{doc}?theme=` filters the model.
import { el } from './dom.js'

const $ = (id) => document.getElementById(id)
const state = { key: null, model: null, applied: null }

export function initThemes () {
  $('theme-filter').addEventListener('change', () => { if (state.model) apply(state.model) })
}

/** After every full render (the document's elements may be new). */
export function updateThemes (model) {
  state.model = model
  const select = $('theme-filter')
  const key = JSON.stringify(model.themes.map((t) => [t.id, t.name]))
  if (key !== state.key) {
    state.key = key
    const kept = select.value
    select.replaceChildren(el('option', { value: '' }, 'all paragraphs'),
      ...model.themes.map((t) => el('option', { value: t.id }, `theme: ${t.name}`)))
    select.value = model.themes.some((t) => t.id === kept) ? kept : ''
  }
  $('theme-tools').hidden = model.themes.length === 0
  apply(model)
}

function apply (model) {
  const theme = model.themes.find((t) => t.id === $('theme-filter').value) || null
  // No theme chosen, and none before: nothing is hidden (new elements start shown), and on a
  // large text this runs after every change.
  if (!theme && !state.applied) return
  state.applied = theme ? theme.id : null
  const tagged = (p) => !theme || theme.paragraphs.some((t) => t === p.id || t === p.parent)
  const shown = new Set(model.paragraphs.filter(tagged).map((p) => p.id))
  for (const node of document.querySelectorAll('#document > [data-paragraph], #document > [data-heading]')) {
    node.hidden = !shown.has(node.dataset.paragraph || node.dataset.heading)
  }
  $('document').dataset.theme = theme ? theme.id : ''
  // The outline shows the same: a paragraph's chip, and a section while it or any of its
  // paragraphs is shown.
  for (const link of document.querySelectorAll('#outline-list .chip[data-outline]')) {
    link.closest('li').hidden = !shown.has(link.dataset.outline)
  }
  for (const link of document.querySelectorAll('#outline-list .outline-section[data-outline]')) {
    const item = link.closest('li')
    item.hidden = !shown.has(link.dataset.outline) && !item.querySelector('.outline-paragraphs > li:not([hidden])')
  }
}
