// Exports and printing: the Export menu (the server's export route for the text the current
// view shows: the live text, the revision being read, or in the comparison the Word redline of
// one text against the other), downloaded with the page's token, and the print view (the text
// alone: headings, labels, bodies) with the print stylesheet in style.css.
import { el, button, revisionLine } from './dom.js'
import { getFile, save } from './api.js'
import { revision, fetchedRevision, comparedTexts } from './revisions.js'

const $ = (id) => document.getElementById(id)
// Format, what the menu calls it, the file name's ending (when the server gives no name).
export const FORMATS = [
  ['docx', 'Word (.docx)', 'docx'],
  ['md', 'Structured text (.md)', 'md'],
  ['clean', 'Clean text, Markdown (.md)', 'clean.md'],
  ['clean-txt', 'Clean text, plain (.txt)', 'clean.txt'],
  ['compilation', 'Compilation with amendments (.html)', 'compilation.html'],
  ['compilation-docx', 'Compilation with amendments, Word (.docx)', 'compilation.docx'],
  ['akn', 'Akoma Ntoso XML (.xml)', 'akn.xml']
]
const STATUS = { 'agreed-pending': 'agreed pending', 'agreed-ad-ref': 'agreed ad ref', agreed: 'agreed', held: 'held' }

let ctx = null
// What opened the print view (focus goes back there), and whether printing opened it.
const print = { opener: null, auto: false, asked: 0 }

/** `context`: `{conn, view(), model(), published()}`. */
export function initExports (context) {
  ctx = context
  const toggle = $('export-button')
  toggle.addEventListener('click', () => (isOpen() ? closeMenu(false) : openMenu('first')))
  toggle.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      openMenu(event.key === 'ArrowDown' ? 'first' : 'last')
    }
  })
  $('export-menu').addEventListener('keydown', menuKey)
  $('export-tools').addEventListener('focusout', (event) => {
    if (isOpen() && !$('export-tools').contains(event.relatedTarget)) closeMenu(false)
  })
  document.addEventListener('pointerdown', (event) => {
    if (isOpen() && !$('export-tools').contains(event.target)) closeMenu(false)
  })
  $('print-button').addEventListener('click', () => openPrint())
  $('print-now').addEventListener('click', () => window.print())
  $('print-close').addEventListener('click', () => closePrint())
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.classList.contains('print-open')) closePrint()
  })
  // Printing the page itself (Ctrl+P) prints the text alone too, when it is at hand (a
  // comparison prints as the comparison, without its controls).
  window.addEventListener('beforeprint', () => {
    const shown = scope()
    if (document.body.classList.contains('print-open') || shown.redline) return
    const text = textNow(shown.text)
    if (!text) return
    print.auto = true
    renderPrint(text)
    $('print-view').hidden = false
    document.body.classList.add('print-auto')
  })
  window.addEventListener('afterprint', () => {
    if (!print.auto) return
    print.auto = false
    $('print-view').hidden = true
    document.body.classList.remove('print-auto')
  })
}

// ----- what the current view shows -----

/** `{text: {revision, name}, redline?: {from, to, fromName, toName}}`: the text the current
 *  view shows (`revision` null for the live text), and in a comparison the two texts. */
function scope () {
  if (ctx.view() === 'compare') {
    const compared = comparedTexts()
    if (compared) {
      const text = compared.to === 'live'
        ? { revision: null, name: 'the live text' }
        : { revision: compared.to, name: compared.toName }
      return compared.from === compared.to ? { text } : { text, redline: compared }
    }
  }
  const model = ctx.model()
  const latest = model && model.revisions.latest
  if (ctx.published() && latest) return { text: { revision: latest.id, name: latest.name } }
  return { text: { revision: null, name: 'the live text' } }
}

// ----- the menu -----

const isOpen = () => !$('export-menu').hidden
const items = () => [...$('export-menu').querySelectorAll('[role="menuitem"]')]

function openMenu (where) {
  const { text, redline } = scope()
  const groups = []
  if (redline) {
    groups.push(group(`${capital(redline.toName)} against ${redline.fromName}`, [
      item('Word redline, tracked changes (.docx)', 'redline', () =>
        download({ format: 'docx', revision: redline.to === 'live' ? null : redline.to, against: redline.from },
          `the Word redline of ${redline.toName} against ${redline.fromName}`))
    ]))
  }
  groups.push(group(capital(text.name), FORMATS.map(([format, name]) =>
    item(name, format, () => download({ format, revision: text.revision }, `${text.name} as ${name}`)))))
  $('export-menu').replaceChildren(...groups)
  tell('idle', '')
  $('export-menu').hidden = false
  $('export-button').setAttribute('aria-expanded', 'true')
  const all = items()
  all[where === 'last' ? all.length - 1 : 0].focus()
}

function group (name, children) {
  return el('div', { role: 'group', 'aria-label': name },
    el('div', { class: 'menu-heading', 'aria-hidden': 'true' }, name), ...children)
}

function item (name, format, action) {
  return button(name, () => { closeMenu(true); action() },
    { role: 'menuitem', tabindex: '-1', 'data-export': format })
}

function closeMenu (refocus) {
  $('export-menu').hidden = true
  $('export-menu').replaceChildren()
  $('export-button').setAttribute('aria-expanded', 'false')
  if (refocus) $('export-button').focus()
}

/** Arrows, Home and End move; Escape closes and gives focus back; Tab closes and moves on. */
function menuKey (event) {
  const all = items()
  const at = all.indexOf(document.activeElement)
  const moves = {
    ArrowDown: (at + 1) % all.length,
    ArrowUp: (at - 1 + all.length) % all.length,
    Home: 0,
    End: all.length - 1
  }
  if (event.key in moves) {
    event.preventDefault()
    all[moves[event.key]].focus()
  } else if (event.key === 'Escape') {
    event.preventDefault()
    closeMenu(true)
  } else if (event.key === 'Tab') {
    // From the menu button, so that Tab goes on to what follows it.
    closeMenu(true)
  }
}

/** Fetches the export and hands it to the browser as a download, saying how it went. */
async function download ({ format, revision, against }, what) {
  const query = new URLSearchParams({ format })
  if (revision) query.set('revision', revision)
  if (against) query.set('against', against)
  const ending = FORMATS.find(([f]) => f === format)[2]
  const fallback = `${ctx.conn.doc}-${revision || 'live'}${against ? `-against-${against}` : ''}.${ending}`
  tell('working', `Exporting ${what}…`)
  try {
    const file = await getFile(ctx.conn, `/export?${query}`, fallback)
    save(file)
    tell('downloaded', `Downloaded ${file.name}.`, file.name)
  } catch (error) {
    tell('refused', refusal(error, revision), error.code)
  }
}

function refusal (error, revision) {
  if (error.code === 'published-only') {
    const latest = ctx.model() && ctx.model().revisions.latest
    return `Not exported: observers of this document read published revisions only, so the live text cannot be exported${latest ? `; ${latest.name} can` : ' (none is published yet)'}.`
  }
  if (error.code === 'unknown-revision') return `Not exported: the server has no revision ${revision}.`
  return `Not exported: ${error.message || error}.`
}

/** The message beside the menu (`outcome`: working, downloaded, refused). */
function tell (outcome, text, detail) {
  const box = $('export-message')
  box.dataset.outcome = outcome
  if (detail) box.dataset.detail = detail
  else delete box.dataset.detail
  box.textContent = text
}

// ----- the print view -----

/** Opens the print view of the text the current view shows. */
async function openPrint () {
  const { text } = scope()
  const asked = ++print.asked
  print.opener = document.activeElement
  document.body.classList.add('print-open')
  $('print-view').hidden = false
  $('print-view').dataset.ready = 'false'
  $('print-title').focus()
  let shown = textNow(text)
  if (!shown) {
    renderPrint({ title: ctx.conn.doc, line: `Loading ${text.name}…`, paragraphs: [] })
    try {
      shown = printable(await revision(text.revision))
    } catch (error) {
      shown = { title: ctx.conn.doc, line: `${text.name} could not be read: ${error.message}`, paragraphs: [] }
    }
  }
  if (asked !== print.asked || !document.body.classList.contains('print-open')) return
  renderPrint(shown)
  $('print-view').dataset.ready = 'true'
}

function closePrint () {
  print.asked++
  document.body.classList.remove('print-open')
  $('print-view').hidden = true
  const back = print.opener && print.opener.isConnected ? print.opener : $('print-button')
  back.focus()
}

/** The text to print, if it is at hand now: the live text (or the revision an observer reads)
 *  from the model, a revision once fetched; else `null`. */
function textNow (text) {
  const model = ctx.conn.model()
  const latest = model.revisions.latest
  if (!text.revision || (ctx.published() && latest && latest.id === text.revision)) {
    const at = new Date().toLocaleString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' })
    let line = `Live text, as of ${at}${latest ? ` (current revision: ${latest.name})` : ''}.`
    if (text.revision) line = `${revisionLine(latest)}.`
    else if (ctx.published()) line = 'No revision has been published yet.'
    return { title: ctx.conn.doc, line, paragraphs: model.paragraphs }
  }
  const stored = fetchedRevision(text.revision)
  return stored && printable(stored)
}

function printable (stored) {
  return { title: ctx.conn.doc, line: `${revisionLine(stored)}.`, paragraphs: stored.paragraphs }
}

/** Headings, labels and bodies, as text. */
function renderPrint ({ title, line, paragraphs }) {
  $('print-title').textContent = title
  $('print-line').textContent = line
  $('print-text').replaceChildren(...paragraphs.map((p) => {
    if (p.kind === 'heading') return el('h2', { 'data-print-paragraph': p.id }, p.body)
    const status = p.status === 'deleted' ? null : STATUS[p.status]
    return el('div', { class: `print-paragraph ${p.kind}`, 'data-print-paragraph': p.id },
      el('span', { class: 'print-label' }, p.label),
      p.status === 'deleted'
        ? el('p', { class: 'print-body deleted' }, 'Deleted.')
        : el('p', { class: 'print-body' }, p.body),
      status ? el('span', { class: 'print-status' }, `(${status})`) : null)
  }))
}

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1)
