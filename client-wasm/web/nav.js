// Finding one's way in a long text: the outline (sections, objectives and paragraph labels
// coloured by status; collapsible, sticky beside the text on wide screens, a drawer on narrow
// ones), going to a paragraph by its label, links to a paragraph (`#p=41` beside the page's
// other hash parameters, updated without reloading), the skip link, and the keyboard inside
// the document: one Tab stop for the text (roving tabindex on the paragraphs), Up and Down
// move between paragraphs, Enter goes into the paragraph's first control, Escape back out.
import { el } from './dom.js'

const $ = (id) => document.getElementById(id)
const FOCUSABLE = 'textarea, input, select, button, a[href], summary, [data-inner-tab]'

let ctx = null
let outlineFor = null
// The paragraph holding the document's one Tab stop, and the label asked for by the link.
let current = null
let wanted = null
let byLabel = new Map()

/** `context`: `{model(), reveal(id)}` (`reveal`: make a filtered-out paragraph visible). */
export function initNav (context) {
  ctx = context
  wanted = new URLSearchParams(location.hash.slice(1)).get('p')
  $('goto-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const label = $('goto-input').value.trim()
    const error = $('goto-error')
    error.textContent = ''
    $('goto-input').removeAttribute('aria-invalid')
    if (!label) return
    if (!goToLabel(label)) {
      error.textContent = `There is no paragraph ${label}.`
      $('goto-input').setAttribute('aria-invalid', 'true')
    }
  })
  window.addEventListener('hashchange', () => {
    const label = new URLSearchParams(location.hash.slice(1)).get('p')
    if (label) goToLabel(label)
  })
  $('outline-collapse').addEventListener('click', () => {
    const open = $('outline-collapse').getAttribute('aria-expanded') !== 'true'
    $('outline-collapse').setAttribute('aria-expanded', String(open))
    $('outline-collapse').textContent = open ? 'Collapse' : 'Expand'
    $('outline-list').hidden = !open
    $('outline').classList.toggle('collapsed', !open)
  })
  $('outline-open').addEventListener('click', () => drawer(true))
  $('outline-close').addEventListener('click', () => drawer(false))
  $('outline').addEventListener('keydown', (e) => { if (e.key === 'Escape') drawer(false) })
  $('outline-list').addEventListener('click', (event) => {
    const link = event.target.closest('[data-outline]')
    if (!link) return
    event.preventDefault()
    drawer(false)
    goToParagraph(link.dataset.outline)
  })
  $('skip-link').addEventListener('click', (event) => {
    // The page's hash holds the sign-in: the link focuses the text instead of navigating.
    event.preventDefault()
    const article = currentArticle() || document.querySelector('#document > article:not([hidden]):not([data-filtered-out])')
    if (article) article.focus()
  })
  // The outline, with a link per paragraph, comes first in the page: these jump past it.
  $('skip-to-find').addEventListener('click', (event) => {
    event.preventDefault()
    $('goto-input').focus()
  })
  $('skip-to-outline').addEventListener('click', (event) => {
    event.preventDefault()
    // On a narrow screen the outline is a drawer, closed: opening it focuses its first link.
    if ($('outline').getClientRects().length === 0) return drawer(true)
    const first = [...$('outline-list').querySelectorAll('a')].find((a) => a.getClientRects().length)
    if (first) first.focus()
  })
  const documentNode = $('document')
  documentNode.addEventListener('keydown', onKey)
  documentNode.addEventListener('focusin', (event) => {
    const article = event.target.closest('#document > article')
    if (article) setCurrent(article, article !== event.target)
  })
  documentNode.addEventListener('focusout', (event) => {
    const article = event.target.closest('#document > article')
    if (article && !article.contains(event.relatedTarget)) inner(article, false)
  })
}

function drawer (open) {
  document.body.classList.toggle('outline-open', open)
  $('outline-open').setAttribute('aria-expanded', String(open))
  if (open) [...$('outline-list').querySelectorAll('a')].find((a) => !a.closest('li[hidden]'))?.focus()
}

const articleOf = (id) => document.querySelector(`#document > [data-paragraph="${CSS.escape(id)}"], #document > [data-heading="${CSS.escape(id)}"]`)
const currentArticle = () => current && document.querySelector(`#document > article[data-paragraph="${CSS.escape(current)}"]`)

/** Goes to the paragraph labelled `label`; false if there is none. */
export function goToLabel (label) {
  const id = byLabel.get(label.toLowerCase())
  if (!id) return false
  goToParagraph(id)
  return true
}

/** Scrolls to paragraph `id`, gives it focus, and names it in the page's address. */
export function goToParagraph (id, { focus = true } = {}) {
  let article = articleOf(id)
  if (article && (article.hidden || article.hasAttribute('data-filtered-out'))) { ctx.reveal(id); article = articleOf(id) }
  if (!article) return false
  if (article.tagName === 'ARTICLE') setCurrent(article, false)
  else article.tabIndex = -1
  article.scrollIntoView({ block: 'start' })
  if (focus) article.focus({ preventScroll: true })
  const model = ctx.model()
  const p = model && model.paragraphs.find((q) => q.id === id)
  if (p) {
    const params = new URLSearchParams(location.hash.slice(1))
    params.set('p', p.label)
    history.replaceState(null, '', `#${params.toString()}`)
  }
  return true
}

/** The paragraph `article` holds the Tab stop; its own controls are reachable if `entered`. */
function setCurrent (article, entered) {
  const before = currentArticle()
  if (before && before !== article) { before.tabIndex = -1; inner(before, false) }
  current = article.dataset.paragraph
  article.tabIndex = 0
  if (entered) inner(article, true)
  for (const link of document.querySelectorAll('#outline-list [aria-current]')) link.removeAttribute('aria-current')
  document.querySelector(`#outline-list [data-outline="${CSS.escape(current)}"]`)?.setAttribute('aria-current', 'location')
}

/** Makes the controls inside `article` part of the Tab order, or not. */
function inner (article, on) {
  for (const node of article.querySelectorAll(FOCUSABLE)) {
    if (on) {
      if (node.dataset.innerTab !== undefined) { node.removeAttribute('tabindex'); delete node.dataset.innerTab }
    } else if (node.getAttribute('tabindex') !== '-1') {
      node.setAttribute('tabindex', '-1')
      node.dataset.innerTab = ''
    }
  }
}

function onKey (event) {
  const article = event.target.closest('#document > article')
  if (!article) return
  if (event.target === article) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      const all = [...document.querySelectorAll('#document > article:not([hidden]):not([data-filtered-out])')]
      const next = all[all.indexOf(article) + (event.key === 'ArrowDown' ? 1 : -1)]
      if (next) { setCurrent(next, false); next.focus() }
    } else if (event.key === 'Enter') {
      event.preventDefault()
      inner(article, true)
      const first = [...article.querySelectorAll(FOCUSABLE)].find((n) => !n.disabled && n.offsetParent !== null)
      if (first) first.focus()
    }
  } else if (event.key === 'Escape') {
    inner(article, false)
    article.focus()
  }
}

/** After the document's elements were rebuilt: the Tab stop, and the paragraph the link names. */
export function afterRebuild (model, redrawn = null) {
  byLabel = new Map()
  for (const p of model.paragraphs) if (p.kind !== 'heading') byLabel.set(p.label.toLowerCase(), p.id)
  // Sections by what they are called ("objective 12", from "Objective 12: ..."), and by their
  // label, where no paragraph has it.
  for (const p of model.paragraphs) {
    if (p.kind !== 'heading') continue
    const named = /^\s*(objective|section|chapter|part)\s+([0-9]+[a-z]*)\b/i.exec(p.body || '')
    for (const key of [named && `${named[1]} ${named[2]}`, p.label]) {
      if (key && !byLabel.has(key.toLowerCase())) byLabel.set(key.toLowerCase(), p.id)
    }
  }
  // After a redraw of some paragraphs, only their (new) articles need their Tab order set.
  const articles = redrawn
    ? redrawn.map((id) => document.querySelector(`#document > article[data-paragraph="${CSS.escape(id)}"]`)).filter(Boolean)
    : [...document.querySelectorAll('#document > article')]
  const focused = document.activeElement
  for (const article of articles) {
    article.tabIndex = -1
    inner(article, article.contains(focused) && article !== focused)
  }
  if (!currentArticle()) current = document.querySelector('#document > article')?.dataset.paragraph
  const article = currentArticle()
  if (article) article.tabIndex = 0
  if (wanted && byLabel.has(wanted.toLowerCase())) {
    const label = wanted
    wanted = null
    requestAnimationFrame(() => goToLabel(label))
  }
}

/** The outline: sections and objectives, and the paragraphs under each, by status. */
export function updateOutline (model) {
  const outline = $('outline')
  const shape = JSON.stringify(model.paragraphs.map((p) => [p.id, p.label, p.kind, p.status, !!p.lock, p.kind === 'heading' ? p.body : '']))
  outline.hidden = model.paragraphs.length === 0
  document.body.classList.toggle('with-outline', model.paragraphs.length > 0)
  if (shape === outlineFor) return
  outlineFor = shape
  const items = []
  let chips = null
  const section = (title, id, sub) => {
    chips = el('ul', { class: 'outline-paragraphs', 'aria-label': `Paragraphs under ${title}` })
    const link = el('a', { href: `#p=${encodeURIComponent(id)}`, 'data-outline': id, class: 'outline-section' }, title)
    items.push(el('li', { class: sub ? 'sub' : '' }, link, chips))
  }
  const headings = new Set(model.paragraphs.filter((p) => p.kind === 'heading').map((p) => p.id))
  for (const p of model.paragraphs) {
    if (p.kind === 'heading') {
      section(p.body || 'Section', p.id, p.parent && headings.has(p.parent))
      continue
    }
    if (!chips) section('Text', p.id, false)
    const state = p.lock ? `${p.status}, locked` : p.status
    chips.append(el('li', {},
      el('a', {
        href: `#p=${encodeURIComponent(p.label)}`,
        'data-outline': p.id,
        'data-status': p.status,
        class: `chip ${p.status}${p.lock ? ' locked' : ''}`,
        'aria-label': `Paragraph ${p.label}, ${state}`,
        title: `Paragraph ${p.label}: ${state}`
      }, p.label)))
  }
  $('outline-list').replaceChildren(...items)
  if (current) document.querySelector(`#outline-list [data-outline="${CSS.escape(current)}"]`)?.setAttribute('aria-current', 'location')
}
