// Feedback where the person is: what happened to a paragraph or an amendment is said at it and
// stays until dismissed (a refused edit, a refused command, "UN locked 17: agreed ad ref", a
// paragraph locked while this person typed in it); text the server could not take is shown at
// its paragraph with Copy and "Propose as an amendment"; commands given while offline wait at
// their paragraph ("will be sent when back online") and are sent on reconnection, or said to be
// refused there. A facilitator's lock or unlock offers a short Undo.
import { el, button } from './dom.js'

let ctx = null
// Paragraph id -> notes ({id, text, tone, amendment, actions, until}).
const notes = new Map()
let nextNote = 1
// Commands waiting for the connection: {command, paragraph, note, resolve}.
const queued = []
let flushing = false
// Paragraphs this page just locked or unlocked (their notice is the Undo).
const own = new Set()
let recoverableFor = ''
let recoverable = []

/** `context`: `{conn, model(), session(), say(text), propose(paragraphId, text)}`. */
export function initFeedback (context) {
  ctx = context
}

const amendments = (model) => model ? model.paragraphs.flatMap((p) => p.amendments) : []

/** The paragraph a command or a text is about. */
export function paragraphOf (thing) {
  if (!thing) return null
  if (thing.paragraph) return thing.paragraph
  const model = ctx.model()
  const amendment = thing.amendment || (thing.kind && thing.kind.startsWith('amendment') ? thing.id : null)
  if (thing.kind === 'body') return thing.id
  const a = amendments(model).find((x) => x.id === amendment)
  return a ? a.paragraph : null
}

const labelOf = (id) => {
  const model = ctx.model()
  const p = model && model.paragraphs.find((q) => q.id === id)
  return p ? p.label : id
}

/** Says `text` at paragraph `paragraph` until dismissed (or `until` ms from now). */
export function note (paragraph, text, { tone = 'bad', amendment = null, actions = [], until = 0, kind = 'note' } = {}) {
  if (!paragraph) { ctx.say(text); return null }
  const id = `n${nextNote++}`
  const list = notes.get(paragraph) || []
  list.push({ id, text, tone, amendment, actions, kind })
  notes.set(paragraph, list)
  if (until) setTimeout(() => dismiss(paragraph, id), until)
  renderSlot(paragraph)
  return id
}

export function dismiss (paragraph, id) {
  const list = (notes.get(paragraph) || []).filter((n) => n.id !== id)
  if (list.length) notes.set(paragraph, list)
  else notes.delete(paragraph)
  renderSlot(paragraph)
}

/** Where a paragraph's feedback goes (filled now, and again when it changes). */
export function feedbackSlot (p) {
  const slot = el('div', { class: 'feedback', 'data-feedback': p.id })
  fill(slot, p.id)
  return slot
}

function renderSlot (paragraph) {
  const slot = document.querySelector(`[data-feedback="${CSS.escape(paragraph)}"]`)
  if (slot) fill(slot, paragraph)
}

function fill (slot, paragraph) {
  const nodes = []
  for (const n of notes.get(paragraph) || []) {
    const box = el('div', {
      class: `paragraph-note ${n.tone}`, role: n.tone === 'bad' ? 'alert' : 'status',
      'data-note': n.kind, 'data-note-id': n.id, 'data-amendment': n.amendment || undefined
    }, el('span', {}, n.text))
    for (const [label, act, control] of n.actions) box.append(' ', button(label, act, { 'data-control': control }))
    box.append(' ', button('Dismiss', () => dismiss(paragraph, n.id), { 'data-control': `dismiss-note:${n.id}`, 'aria-label': `Dismiss: ${n.text}` }))
    nodes.push(box)
  }
  const model = ctx.model()
  const p = model && model.paragraphs.find((q) => q.id === paragraph)
  // A locked (or deleted) paragraph takes no amendment: the text waits here until it does.
  const proposable = !!p && !p.lock && p.status !== 'deleted'
  recoverable.forEach((item, index) => {
    if (paragraphOf(item.target) !== paragraph) return
    const label = `Your text for ${describe(item.target)}, not taken`
    nodes.push(el('div', { class: 'paragraph-note recovered-here', 'data-recovered-here': String(index) },
      el('p', {}, `The server could not take your text for ${describe(item.target)}: ${item.why}. It is kept here.`),
      el('textarea', { readonly: '', rows: '3', 'aria-label': label }, item.text),
      button('Copy', () => navigator.clipboard && navigator.clipboard.writeText(item.text), { 'data-control': `copy-recovered:${index}` }),
      proposable
        ? button('Propose as an amendment', () => ctx.propose(paragraph, item.text), { 'data-control': `propose-recovered:${index}` })
        : el('span', { class: 'hint', 'data-hint': `propose-recovered:${index}` },
          `Paragraph ${labelOf(paragraph)} takes no amendments while it is ${p && p.lock ? 'locked' : 'deleted'}: it can be proposed from here once it does.`),
      button('Dismiss', () => ctx.conn.dismissRecoverable(index), { 'data-control': `dismiss-recovered:${index}` })))
  })
  slot.replaceChildren(...nodes)
}

function describe (target) {
  if (target.kind === 'body') return `paragraph ${labelOf(target.id)}`
  if (target.kind === 'amendment-text') return `amendment ${target.id}`
  if (target.kind === 'amendment-rationale') return `the rationale of amendment ${target.id}`
  return 'the cover letter'
}

/** Every render: the recoverable texts shown at their paragraphs when they changed. */
export function updateFeedback (status) {
  const key = JSON.stringify(status.recoverable)
  if (key === recoverableFor) return
  recoverableFor = key
  recoverable = status.recoverable
  for (const slot of document.querySelectorAll('[data-feedback]')) fill(slot, slot.dataset.feedback)
}

/** Sends a command; a refusal is said at its paragraph; offline, it waits for the connection.
 *  Resolves to whether it was done. */
export async function run (command) {
  const paragraph = paragraphOf(command)
  let result
  try {
    result = await ctx.conn.command(command)
  } catch (error) {
    if (error && error.code === 'offline') return queue(command, paragraph)
    refused(paragraph, command, error)
    return false
  }
  if (result.error) {
    if (result.error.code === 'offline') return queue(command, paragraph)
    refused(paragraph, command, result.error)
    return false
  }
  return true
}

function refused (paragraph, command, error) {
  const message = `Not done (${what(command)}): ${(error && error.message) || error}`
  note(paragraph, message, { kind: 'refused', amendment: command.amendment })
  if (!paragraph) return
  ctx.say(`${message} — see paragraph ${labelOf(paragraph)}.`)
}

function what (command) {
  const name = command.type.replace(/-/g, ' ')
  return command.amendment ? `${name} ${command.amendment}` : name
}

function queue (command, paragraph) {
  return new Promise((resolve) => {
    const entry = { command, paragraph, resolve }
    entry.note = note(paragraph, `Will be sent when back online: ${what(command)}.`, {
      tone: 'wait', kind: 'queued', amendment: command.amendment,
      actions: [['Cancel', () => { cancel(entry) }, `cancel-queued:${paragraph}`]]
    })
    queued.push(entry)
  })
}

function cancel (entry) {
  const at = queued.indexOf(entry)
  if (at !== -1) queued.splice(at, 1)
  dismiss(entry.paragraph, entry.note)
  entry.resolve(false)
}

/** The connection is synced again: what waited is sent, in order. */
export async function connectionChanged (connection) {
  if (connection !== 'synced' || flushing) return
  flushing = true
  try {
    while (queued.length && ctx.conn.status().connection === 'synced') {
      const entry = queued.shift()
      dismiss(entry.paragraph, entry.note)
      entry.resolve(await run(entry.command))
    }
  } finally {
    flushing = false
  }
}

/** The server refused an update: said at its paragraph. */
export function rejected (event) {
  note(event.paragraph, `Your last change was not accepted: ${event.message}. Anything that could not be applied is kept here for you to copy.`, { kind: 'rejected' })
}

/** This page locked or unlocked `paragraph`: the notice is an Undo, for a short while. A lock
 *  that set a status (`before`: the status it replaced) is undone with that status put back. */
export function lockedHere (paragraph, locked, reason, before = null) {
  own.add(paragraph)
  const label = labelOf(paragraph)
  const undo = locked
    ? [{ type: 'unlock', paragraph, reason: 'undo' }]
    : [{ type: 'lock', paragraph, reason: reason || 'relocked' }]
  if (locked && before) {
    const restore = { type: 'set-status', paragraph, status: before.status }
    if (before.status === 'agreed-pending') restore.pending = before.pending
    undo.push(restore)
  }
  let id = null
  id = note(paragraph, locked ? `You locked ${label}: ${reason}.` : `You unlocked ${label}.`, {
    tone: 'ok', kind: 'undo', until: 15000,
    actions: [['Undo', async () => {
      dismiss(paragraph, id)
      own.add(paragraph)
      for (const command of undo) if (!await run(command)) return
    }, `undo:${paragraph}`]]
  })
}

/** The model was re-read: locks that arrived (or went) are said at their paragraphs. */
export function modelChanged (before, after, typingIn) {
  if (!before || !before.paragraphs.length) return
  const was = new Map(before.paragraphs.map((p) => [p.id, p]))
  for (const p of after.paragraphs) {
    const old = was.get(p.id)
    if (!old || !!old.lock === !!p.lock) continue
    if (own.has(p.id)) { own.delete(p.id); continue }
    if (p.lock) {
      let text = `${p.lock.mission} locked ${p.label}: ${p.lock.reason}.`
      if (typingIn === p.id) text += ' You were typing here: what you typed is kept (anything the server could not take is shown here to copy or propose).'
      note(p.id, text, { tone: 'info', kind: 'locked' })
    } else {
      note(p.id, `Paragraph ${p.label} was unlocked: it may be edited again.`, { tone: 'info', kind: 'unlocked' })
    }
  }
}
