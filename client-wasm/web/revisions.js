// Revisions: the heading that names the document and the revision it stands at, the list of
// published revisions, and the comparison of any two texts (a revision, or the live text),
// paragraph by paragraph, with who wrote each insertion, the change notes and the cover letter.
import { el, button, day, revisionLine, debounce } from './dom.js'
import { get } from './api.js'
import { renderMarkdown } from './markdown.js'
import { redline, changes } from './redline.js'

const $ = (id) => document.getElementById(id)
const STATUS = { open: 'open', 'agreed-pending': 'agreed pending', 'agreed-ad-ref': 'agreed ad ref', agreed: 'agreed', held: 'held', deleted: 'deleted' }

let ctx = null
// What the server listed, and for which published ids.
let list = []
let listedFor = null
// Published revisions never change: each is fetched once.
const stored = new Map()
const fetched = new Map()
const state = { from: null, to: null, chosen: false, all: false, asked: 0, shown: false, published: false, kinds: new Map() }

/** `context`: `{conn, say}`. */
export function initRevisions (context) {
  ctx = context
  $('compare-from').addEventListener('change', () => { state.from = $('compare-from').value; state.chosen = true; refreshCompare() })
  $('compare-to').addEventListener('change', () => { state.to = $('compare-to').value; state.chosen = true; refreshCompare() })
  $('compare-all').addEventListener('change', () => { state.all = $('compare-all').checked; refreshCompare() })
}

/** The live text changed: a comparison with it is redone (once typing pauses). */
export const liveChanged = debounce(() => {
  if (state.shown && state.to === 'live') refreshCompare()
}, 800)

/** Shows or hides the comparison (it is fetched only while shown). */
export function showCompare (shown) {
  state.shown = shown
  if (shown) refreshCompare()
}

/** The model was re-read: the heading, and the list when something was published. */
export function updateRevisions (model) {
  const revisions = model.revisions
  state.kinds = new Map(model.paragraphs.map((p) => [p.id, p.kind]))
  renderHeading(revisions, model)
  const listed = [revisions.published.join(','), revisions.observers, ctx.role()].join('|')
  if (listed !== listedFor) {
    listedFor = listed
    loadList(revisions)
  }
}

export function publishedReader (revisions) {
  return revisions.observers === 'published' && ctx.role() === 'observer'
}

function renderHeading (revisions, model) {
  // The document's title: its first heading, or its id.
  const first = model.paragraphs.find((p) => p.kind === 'heading' && p.body.trim())
  const title = first ? first.body.trim() : ctx.conn.doc
  $('doc-title').textContent = title
  document.title = `${title} · Concord`
  const line = $('doc-revision')
  const latest = revisions.latest
  if (publishedReader(revisions) && latest) {
    line.dataset.reading = 'published'
    line.dataset.revision = latest.id
    line.textContent = `You are reading the published revision ${revisionLine(latest)}.`
  } else {
    line.dataset.reading = 'live'
    line.dataset.revision = latest ? latest.id : ''
    line.textContent = latest
      ? `Live text. Current revision: ${revisionLine(latest)}.`
      : 'Live text. No revision has been published yet.'
  }
  if (latest) line.title = `Published by ${latest.published_by.person} (${latest.published_by.mission}) on ${new Date(latest.published_at_ms).toLocaleString()}`
}

async function loadList (revisions) {
  try {
    const answer = await get(ctx.conn, '/revisions')
    list = answer.revisions
  } catch (error) {
    ctx.say(`The list of revisions could not be read: ${error.message}`)
    return
  }
  const published = publishedReader(revisions)
  const ids = list.map((r) => r.id)
  const latest = ids[ids.length - 1] || null
  // Defaults, until the person chooses: the latest revision against the live text (for those
  // who read it), else the latest against the one before.
  if (!state.chosen || (!ids.includes(state.to) && state.to !== 'live')) state.to = null
  if (published && state.to === 'live') state.to = null
  if (!state.chosen || !ids.includes(state.from)) state.from = null
  if (!state.to) state.to = published ? latest : 'live'
  if (!state.from) state.from = published ? (ids[ids.length - 2] || latest) : latest
  state.published = published
  renderPicker()
  renderList()
  if (state.shown) refreshCompare()
  // What names revisions elsewhere (letters, silence procedures) reads the names now.
  if (ctx.listed) ctx.listed()
}

function renderPicker () {
  const option = (value, text, selected) => el('option', { value, selected: selected || undefined }, text)
  const from = list.map((r) => option(r.id, r.name, r.id === state.from))
  const to = list.map((r) => option(r.id, r.name, r.id === state.to))
  if (!state.published) to.push(option('live', 'Live text', state.to === 'live'))
  $('compare-from').replaceChildren(...from)
  $('compare-to').replaceChildren(...to)
  $('compare-from').disabled = list.length === 0
  $('compare-to').disabled = list.length === 0
}

function renderList () {
  const items = list.map((r, at) => {
    const previous = list[at - 1]
    const li = el('li', { 'data-revision-item': r.id },
      el('strong', {}, r.name), ` · ${day(r.published_at_ms)} · ${r.published_by.mission} · `,
      r.number === 1 ? 'first revision' : `${r.changed} paragraph${r.changed === 1 ? '' : 's'} changed`)
    const pick = (from, to, all) => () => {
      state.from = from; state.to = to; state.all = all; state.chosen = true
      $('compare-all').checked = all
      renderPicker()
      refreshCompare()
    }
    li.append(' ', button('Read', pick(r.id, r.id, true), { 'aria-label': `Read ${r.name}` }))
    if (previous) li.append(' ', button('Changes', pick(previous.id, r.id, false), { 'aria-label': `Changes from ${previous.name} to ${r.name}` }))
    return li
  })
  $('revision-list').replaceChildren(...items)
}

/** A published revision as stored (fetched once). */
export async function revision (id) {
  if (!stored.has(id)) stored.set(id, get(ctx.conn, `/revisions/${encodeURIComponent(id)}`))
  try {
    const value = await stored.get(id)
    fetched.set(id, value)
    return value
  } catch (error) {
    stored.delete(id)
    throw error
  }
}

/** A revision's name ("Rev 1") as listed (or the latest's, as the model has it), else its id. */
export function revisionName (id, latest) {
  const listed = list.find((r) => r.id === id)
  if (listed) return listed.name
  return latest && latest.id === id ? latest.name : id
}

/** Sets the comparison to read one revision whole (shown once the view is). */
export function readRevision (id) {
  state.from = id; state.to = id; state.all = true; state.chosen = true
  $('compare-all').checked = true
  renderPicker()
  refreshCompare()
}

/** A published revision already fetched, else `null` (for what cannot wait, like printing). */
export function fetchedRevision (id) {
  return fetched.get(id) || null
}

/** The two texts the comparison is set to (`{from, to, fromName, toName}`, `to` may be
 *  `live`), or `null` before any revision is published. */
export function comparedTexts () {
  if (!state.from || !state.to) return null
  const name = (id) => id === 'live' ? 'the live text' : (list.find((r) => r.id === id) || { name: id }).name
  return { from: state.from, to: state.to, fromName: name(state.from), toName: name(state.to) }
}

/** Fetches and shows the comparison chosen (the latest answer wins). */
export async function refreshCompare () {
  if (!state.shown) return
  const summary = $('compare-summary')
  if (!state.from || !state.to) {
    summary.textContent = 'No revision has been published yet: there is nothing to compare.'
    $('compare-list').replaceChildren()
    $('compare-cover').hidden = true
    return
  }
  const asked = ++state.asked
  const { from, to } = state
  summary.textContent = 'Comparing…'
  try {
    const [comparison, notes, cover] = await Promise.all([
      get(ctx.conn, `/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
      to === 'live' ? get(ctx.conn, '/draft') : revision(to),
      revision(to === 'live' ? from : to)
    ])
    if (asked !== state.asked) return
    renderComparison(comparison, notes, cover, to === 'live')
  } catch (error) {
    if (asked !== state.asked) return
    summary.textContent = `The comparison could not be made: ${error.message}`
  }
}

function renderComparison (comparison, notes, cover, live) {
  const names = { from: comparison.from.name, to: comparison.to.name }
  const noteOf = new Map((notes.change_notes || []).map((n) => [n.paragraph, n]))
  const notesAgainst = live ? (notes.against && notes.against.name) : previousName(notes)
  // The notes describe the text against the revision before it: in full when that is the
  // comparison shown (or a revision is read whole), else only the facilitators' own words.
  const before = live ? (notes.against && notes.against.id) : notes.previous
  const fullNotes = comparison.from.id === comparison.to.id || (before || null) === comparison.from.id
  const changed = comparison.paragraphs.filter(isChanged)
  // A revision against itself is that revision to read, whole.
  const same = comparison.from.id === comparison.to.id
  const shown = state.all || same ? comparison.paragraphs : changed
  const compare = $('compare')
  compare.dataset.from = comparison.from.id
  compare.dataset.to = comparison.to.id
  $('compare-summary').textContent = same
    ? `${names.to}: ${comparison.paragraphs.length} paragraphs.`
    : `From ${names.from} to ${names.to}: ${changed.length} paragraph${changed.length === 1 ? '' : 's'} changed` +
      (state.all ? '.' : ` (showing only those${changed.length ? '' : ': none'}).`)

  const coverBox = $('compare-cover')
  coverBox.hidden = !cover.cover_note
  coverBox.replaceChildren(el('h3', {}, `Cover letter of ${cover.name}`), ...renderMarkdown(cover.cover_note))

  const rows = shown.map((p) => paragraphRow(p, names, noteOf.get(p.id), live, notesAgainst, fullNotes))
  $('compare-list').replaceChildren(...rows)
  compare.dataset.ready = String(state.asked)
}

function previousName (revision) {
  const previous = list.find((r) => r.id === revision.previous)
  return previous ? previous.name : null
}

function isChanged (p) {
  return p.operation !== 'unchanged' || p.moved || p.renumbered || p.status_from !== p.status_to
}

function paragraphRow (p, names, note, live, notesAgainst, fullNotes) {
  const label = p.label_to ?? p.label_from ?? ''
  const heading = state.kinds.get(p.id) === 'heading'
  const marks = []
  if (p.operation === 'added') marks.push(['added', 'new paragraph'])
  if (p.operation === 'deleted') marks.push(['deleted', 'deleted'])
  if (p.operation === 'changed' && changes(p.pieces)) marks.push(['changed', 'wording changed'])
  if (p.moved) marks.push(['moved', 'moved'])
  if (p.renumbered) marks.push(['renumbered', `renumbered from ${p.label_from}`])
  if (p.status_from && p.status_to && p.status_from !== p.status_to) {
    marks.push(['status', `${STATUS[p.status_from] || p.status_from} → ${STATUS[p.status_to] || p.status_to}`])
  }
  const what = marks.map(([, text]) => text).join(', ') || 'unchanged'
  const article = el('article', {
    class: `cmp op-${p.operation}${heading ? ' heading' : ''}`,
    'data-compare': p.id,
    'data-operation': p.operation,
    'aria-label': `${heading ? 'Heading' : 'Paragraph'}${label ? ` ${label}` : ''}: ${what}`
  })
  const head = el('div', { class: 'head' }, el('span', { class: 'label' }, label))
  for (const [kind, text] of marks) head.append(el('span', { class: `mark ${kind}`, 'data-mark': kind }, text))
  article.append(head)

  const side = (which, name, empty) => {
    const nodes = redline(p.pieces, which)
    const text = el('div', { class: 'text' }, nodes.length ? nodes : el('em', { class: 'absent' }, empty))
    return el('div', { class: `side ${which}` }, el('span', { class: 'side-name' }, name), text)
  }
  article.append(
    el('div', { class: 'sides' },
      side('old', names.from, `not in ${names.from}`),
      side('new', names.to, `not in ${names.to}`)),
    el('div', { class: 'text inline' }, redline(p.pieces, 'both')))
  const aside = noteView(note, live, notesAgainst, fullNotes)
  if (aside) article.append(aside)
  return article
}

/** A paragraph's change note as a sentence: "Wording: 3 words added, 1 removed." */
export function describeChange (change) {
  switch (change.change) {
    case 'new': return 'New paragraph.'
    case 'deleted': return 'Deleted.'
    case 'restored': return 'Restored.'
    case 'moved': {
      const section = change.from_parent !== change.to_parent ? ' to another section' : ''
      return change.after ? `Moved${section}: now after ${change.after}.` : `Moved${section}, to the start.`
    }
    case 'renumbered': return `Renumbered from ${change.from} to ${change.to}.`
    case 'wording': return `Wording: ${change.added} word${change.added === 1 ? '' : 's'} added, ${change.removed} removed.`
    case 'status': return `Status: ${STATUS[change.from] || change.from} → ${STATUS[change.to] || change.to}.`
    case 'unchanged': return 'No changes.'
    default: return `${change.change}.`
  }
}

function noteView (note, live, against, full) {
  if (!note || (!full && !note.note)) return null
  const title = live
    ? `Draft note for the next revision${against ? ` (against ${against})` : ''}`
    : `Change note${against ? ` (against ${against})` : ''}`
  const aside = el('aside', { class: 'change-note', 'data-note': note.paragraph, 'aria-label': `${title}, paragraph ${note.label}` },
    el('span', { class: 'note-title' }, title),
    full ? el('p', {}, note.changes.map(describeChange).join(' ')) : null)
  if (note.note) aside.append(el('p', { class: 'facilitators-note' }, el('strong', {}, 'Facilitators: '), note.note))
  return aside
}
