// The propose form: "Propose an amendment" opens it at the paragraph (it does not create one):
// the kind (replace the wording, insert a new paragraph after, delete the paragraph: a
// rewording to an empty text), the proposed text with focus in it, a rationale (required: the
// form says so at the field), "on behalf of" a group. One amendment per submit: the button is
// disabled while it is sent; once the server names the new amendment, the proposed text is
// typed into it (a rewording starts as a copy of the body). What is typed in the form is kept
// while the document's elements are rebuilt.
import { el, button } from './dom.js'

let ctx = null
// Paragraph id -> the form's state {kind, text, rationale, behalf, sending, error}.
const forms = new Map()
const WAIT_FOR_TEXT = 10000

/** `context`: `{conn, model(), note(paragraph, text, opts), say}`. */
export function initPropose (context) {
  ctx = context
}

/** The "Propose an amendment" button, or the form when it is open. */
export function proposeControl (p) {
  const slot = el('div', { class: 'propose', 'data-propose': p.id })
  fill(slot, p)
  return slot
}

/** Opens the form at paragraph `paragraph` (with `text` proposed, e.g. recovered text). */
export function openPropose (paragraph, text) {
  const p = ctx.model().paragraphs.find((q) => q.id === paragraph)
  if (!p) return
  forms.set(paragraph, { kind: 'replace', text: text ?? p.body, rationale: '', behalf: '', sending: false, error: '' })
  const slot = document.querySelector(`[data-propose="${CSS.escape(paragraph)}"]`)
  if (!slot) return ctx.say(`Paragraph ${p.label} takes no amendments now.`)
  fill(slot, p)
  slot.querySelector('textarea')?.focus()
}

function close (paragraph) {
  forms.delete(paragraph)
  const p = ctx.model().paragraphs.find((q) => q.id === paragraph)
  const slot = document.querySelector(`[data-propose="${CSS.escape(paragraph)}"]`)
  if (slot && p) fill(slot, p)
}

function fill (slot, p) {
  const state = forms.get(p.id)
  if (!state) {
    slot.replaceChildren(button('Propose an amendment', () => openPropose(p.id), { 'data-control': `propose:${p.id}` }))
    return
  }
  const id = (name) => `propose-${name}-${p.id}`
  const kinds = [['replace', 'Replace the wording'], ['insert', 'Insert a new paragraph after'], ['delete', 'Delete the paragraph']]
  const kind = el('fieldset', { class: 'kinds' }, el('legend', {}, 'Kind of amendment'),
    ...kinds.flatMap(([value, name]) => {
      const radio = el('input', { type: 'radio', name: id('kind'), id: id(`kind-${value}`), value, 'data-control': `propose-kind-${value}:${p.id}` })
      radio.checked = state.kind === value
      radio.addEventListener('change', () => {
        if (!radio.checked) return
        const was = state.kind
        state.kind = value
        if (value === 'insert' && was !== 'insert' && state.text === p.body) state.text = ''
        if (value === 'replace' && was === 'insert' && !state.text) state.text = p.body
        fill(slot, p)
        slot.querySelector(`[data-control="propose-kind-${value}:${p.id}"]`)?.focus()
      })
      return [radio, el('label', { for: id(`kind-${value}`) }, name)]
    }))
  const text = el('textarea', { id: id('text'), rows: '3', 'data-control': `propose-text:${p.id}` }, state.text)
  text.value = state.text
  text.addEventListener('input', () => { state.text = text.value })
  const rationale = el('textarea', {
    id: id('rationale'), rows: '2', required: '', 'aria-required': 'true',
    'aria-describedby': id('rationale-error'), 'data-control': `propose-rationale:${p.id}`
  })
  rationale.value = state.rationale
  rationale.addEventListener('input', () => { state.rationale = rationale.value })
  const error = el('p', { id: id('rationale-error'), class: 'field-error', 'data-error': `propose-rationale:${p.id}` }, state.error)
  if (state.error) rationale.setAttribute('aria-invalid', 'true')
  const behalf = el('input', { id: id('behalf'), placeholder: 'e.g. G77 and China', autocomplete: 'off', 'data-control': `propose-behalf:${p.id}` })
  behalf.value = state.behalf
  behalf.addEventListener('input', () => { state.behalf = behalf.value })
  const submit = el('button', { type: 'submit', class: 'primary', 'data-control': `propose-submit:${p.id}` }, state.sending ? 'Sending…' : 'Propose')
  submit.disabled = state.sending
  const form = el('form', { class: 'propose-form', 'aria-label': `Propose an amendment to paragraph ${p.label}`, novalidate: '' },
    el('h3', {}, `Propose an amendment to paragraph ${p.label}`),
    kind,
    state.kind === 'delete'
      ? el('p', { class: 'hint' }, `The amendment proposes to delete paragraph ${p.label} (its proposed text is empty).`)
      : [el('label', { for: id('text') }, state.kind === 'insert' ? 'Text of the new paragraph' : 'Proposed wording'), text],
    el('label', { for: id('rationale') }, 'Rationale (required)'), rationale, error,
    el('label', { for: id('behalf') }, 'On behalf of (optional)'), behalf,
    el('div', { class: 'controls' }, submit,
      button('Cancel', () => close(p.id), { 'data-control': `propose-cancel:${p.id}` })))
  form.addEventListener('submit', (event) => { event.preventDefault(); send(slot, p, state) })
  slot.replaceChildren(form)
}

async function send (slot, p, state) {
  if (state.sending) return
  const rationale = state.rationale.trim()
  if (!rationale) {
    state.error = 'Give a rationale: delegations read it with the proposal.'
    fill(slot, p)
    slot.querySelector('[data-control^="propose-rationale"]').focus()
    return
  }
  state.error = ''
  state.sending = true
  fill(slot, p)
  const command = { type: 'create-amendment', paragraph: p.id, new_after: state.kind === 'insert', rationale }
  if (state.behalf.trim()) command.on_behalf_of = state.behalf.trim()
  const proposed = state.kind === 'delete' ? '' : state.text
  let result
  try {
    result = await ctx.conn.command(command)
  } catch (error) {
    result = { error }
  }
  const live = document.querySelector(`[data-propose="${CSS.escape(p.id)}"]`) || slot
  if (result.error) {
    state.sending = false
    state.error = result.error.code === 'offline'
      ? 'You are offline: the proposal stays in this form; send it once the page is connected again.'
      : `Not proposed: ${result.error.message}`
    fill(live, p)
    return
  }
  const id = result.ok && result.ok.id
  forms.delete(p.id)
  fill(document.querySelector(`[data-propose="${CSS.escape(p.id)}"]`) || live, p)
  const typed = await typeInto(id, proposed)
  ctx.note(p.id, typed
    ? `Amendment ${id} proposed.`
    : `Amendment ${id} was created, but its text could not be written: type it in the amendment.`,
  { tone: typed ? 'ok' : 'bad', amendment: id, until: typed ? 10000 : 0, kind: 'proposed' })
  document.querySelector(`[data-target="amendment-text:${CSS.escape(id)}"]`)?.focus()
}

/** Types `text` into amendment `id`'s text once the page's replica has it. */
function typeInto (id, text) {
  const target = { kind: 'amendment-text', id }
  const started = performance.now()
  return new Promise((resolve) => {
    const attempt = () => {
      const now = ctx.conn.text(target)
      if (now !== undefined && now !== null) {
        try {
          if (now !== text) ctx.conn.edit(target, text)
          resolve(true)
        } catch {
          resolve(false)
        }
        return
      }
      if (performance.now() - started > WAIT_FOR_TEXT) return resolve(false)
      requestAnimationFrame(attempt)
    }
    attempt()
  })
}
