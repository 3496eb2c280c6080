// The facilitators' panel for the next revision: the cover letter they type together (a text
// like the others, with a preview of its Markdown), the server's draft change notes with a
// note of their own per paragraph, the themes and where their changes are, what observers
// read, and publishing under a name.
import { el, button, debounce } from './dom.js'
import { get } from './api.js'
import { renderMarkdown } from './markdown.js'
import { describeChange } from './revisions.js'

const $ = (id) => document.getElementById(id)
let ctx = null
const state = { shown: false, preparing: false, editor: null, preview: null, asked: 0, model: null, all: false }

/** `context`: `{conn, say, run, textView, syncText}`. */
export function initPrepare (context) {
  ctx = context
  $('publish-form').addEventListener('submit', (event) => { event.preventDefault(); publish() })
  $('notes-all').addEventListener('change', () => { state.all = $('notes-all').checked; refreshDraft() })
  $('observers-setting').addEventListener('change', () =>
    ctx.run({ type: 'set-observers', observers: $('observers-setting').value }))
  $('theme-form').addEventListener('submit', (event) => { event.preventDefault(); addTheme() })
}

export function showPrepare (shown) {
  state.shown = shown
  if (shown) {
    if (state.model) updatePrepare(state.model)
    refreshDraft()
  }
}

/** The model was re-read. */
export function updatePrepare (model) {
  state.model = model
  const revisions = model.revisions
  if (!state.shown) return
  if (revisions.cover_note === null && !state.preparing) {
    // The first facilitator to open the panel makes the letter's text.
    state.preparing = true
    ctx.run({ type: 'prepare-revision' }).finally(() => { state.preparing = false })
  }
  const editor = JSON.stringify([revisions.cover_note !== null, revisions.cover_note_editable])
  if (editor !== state.editor) {
    state.editor = editor
    $('cover-editor').replaceChildren(revisions.cover_note === null
      ? el('p', { class: 'pending' }, 'Preparing the cover letter…')
      : ctx.textView({ kind: 'cover-note' }, revisions.cover_note_editable, 'Cover letter of the next revision (Markdown)'))
    // Filled at once: an empty box typed into would replace the letter.
    if (revisions.cover_note !== null) ctx.syncText('cover-note:', ctx.conn.text({ kind: 'cover-note' }) ?? revisions.cover_note)
  }
  $('observers-setting').value = revisions.observers
  const name = $('publish-name')
  if (!name.value && document.activeElement !== name) {
    name.value = revisions.published.length ? `Rev ${revisions.published.length}` : 'Zero draft'
  }
  draftChanged()
}

/** After every render: the letter's preview follows its text. */
export function afterRender () {
  if (!state.shown) return
  const text = ctx.conn.text({ kind: 'cover-note' }) ?? ''
  if (text === state.preview) return
  state.preview = text
  const preview = $('cover-preview')
  preview.replaceChildren(...(text.trim() ? renderMarkdown(text) : [el('p', { class: 'pending' }, 'Nothing written yet.')]))
}

/** Something changed in the text: the draft notes are read again once it pauses. */
export const draftChanged = debounce(() => { if (state.shown) refreshDraft() }, 1000)

async function refreshDraft () {
  if (!state.shown) return
  const asked = ++state.asked
  let draft
  try {
    draft = await get(ctx.conn, '/draft')
  } catch (error) {
    if (asked === state.asked) $('prepare-against').textContent = `The draft could not be read: ${error.message}`
    return
  }
  if (asked !== state.asked) return
  $('prepare-against').textContent = draft.against
    ? `Against ${draft.against.name}: ${draft.changed} paragraph${draft.changed === 1 ? '' : 's'} changed so far.`
    : 'This will be the first revision: every paragraph is new.'
  renderNotes(draft.change_notes)
  const editable = ctx.conn.mayEdit({ kind: 'cover-note' })
  $('draft-themes').replaceChildren(...(draft.themes.length
    ? draft.themes.map((t) => el('li', { 'data-theme': t.theme.id }, el('strong', {}, t.theme.name), ': ', t.sentence,
      editable ? [' ', button('Add to the letter', () => addToLetter(t.sentence), {
        'data-control': `add-theme-sentence:${t.theme.id}`, 'aria-label': `Add the sentence on ${t.theme.name} to the cover letter`
      })] : []))
    : [el('li', { class: 'pending' }, 'No themes yet.')]))
  $('prepare').dataset.ready = String(asked)
}

/** The sentence on a theme's changes goes at the end of the cover letter, as its own
 *  paragraph, for the facilitators to edit like the rest. */
function addToLetter (sentence) {
  const target = { kind: 'cover-note' }
  const text = ctx.conn.text(target) ?? ''
  const next = text.trim() ? `${text.replace(/\s+$/, '')}\n\n${sentence}` : sentence
  try {
    ctx.conn.edit(target, next)
  } catch (error) {
    ctx.say(`The sentence could not be added: ${error.message || error}`)
    return
  }
  ctx.syncText('cover-note:', next)
  afterRender()
}

function renderNotes (notes) {
  // Keep what a facilitator is typing, and where.
  const typing = new Map()
  for (const input of document.querySelectorAll('#draft-notes input')) {
    if (input.value !== input.dataset.saved) typing.set(input.dataset.paragraph, input.value)
  }
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#draft-notes')
    ? document.activeElement.dataset.control
    : null
  const shown = state.all ? notes : notes.filter((n) => !isUnchanged(n) || n.note)
  const rows = shown.map((n) => {
    const input = el('input', {
      id: `note-${n.paragraph}`,
      'data-control': `note:${n.paragraph}`,
      'data-paragraph': n.paragraph,
      'data-saved': n.note || '',
      placeholder: 'Your note, e.g. No changes: a proposal is being prepared.',
      size: '40'
    })
    input.value = typing.get(n.paragraph) ?? (n.note || '')
    const save = button('Save note', () => saveNote(n.paragraph, input), { 'data-control': `save-note:${n.paragraph}` })
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') save.click() })
    return el('li', { class: isUnchanged(n) ? 'unchanged' : 'changed', 'data-draft-note': n.paragraph },
      el('span', { class: 'label' }, n.label),
      el('span', { class: 'changes' }, n.changes.map(describeChange).join(' ')),
      el('label', { for: input.id, class: 'sr-only' }, `Facilitators' note on paragraph ${n.label}`),
      input, save)
  })
  $('draft-notes').replaceChildren(...(rows.length ? rows : [el('li', { class: 'pending' }, 'No paragraph changed yet.')]))
  if (focused) {
    const again = document.querySelector(`[data-control="${CSS.escape(focused)}"]`)
    if (again) again.focus()
  }
}

const isUnchanged = (n) => n.changes.every((c) => c.change === 'unchanged')

async function saveNote (paragraph, input) {
  const note = input.value.trim()
  const ok = await ctx.run({ type: 'note-change', paragraph, note })
  if (ok) {
    input.dataset.saved = note
    refreshDraft()
  }
}

async function addTheme () {
  const name = $('theme-name').value.trim()
  const wanted = $('theme-paragraphs').value.split(',').map((s) => s.trim()).filter(Boolean)
  const paragraphs = []
  for (const label of wanted) {
    const p = state.model && state.model.paragraphs.find((q) => q.label === label || q.id === label || q.body === label)
    if (!p) return ctx.say(`There is no paragraph ${label}.`)
    paragraphs.push(p.id)
  }
  if (await ctx.run({ type: 'set-theme', name, paragraphs })) {
    $('theme-name').value = ''
    $('theme-paragraphs').value = ''
    refreshDraft()
  }
}

async function publish () {
  const name = $('publish-name').value.trim()
  const result = $('publish-result')
  if (!name) {
    result.textContent = 'A revision needs a name, such as "Rev 2".'
    return
  }
  result.textContent = `Publishing ${name}…`
  let error = null
  let outcome = null
  try {
    const answer = await ctx.conn.command({ type: 'publish-revision', name, note: null })
    error = answer.error || null
    outcome = answer.ok
  } catch (refused) {
    error = refused
  }
  if (error) {
    result.textContent = error.code === 'revision-name-taken'
      ? `Not published: a revision named ${name} exists already. Choose another name.`
      : `Not published: ${error.message || error.code}`
    result.dataset.outcome = 'refused'
    $('publish-name').focus()
    return
  }
  result.textContent = `Published ${name}${outcome && outcome.id ? ` (${outcome.id})` : ''}. The cover letter and notes start again, empty, for the next revision.`
  result.dataset.outcome = 'published'
  $('publish-name').value = ''
  refreshDraft()
}
