// Amendments as redlines against the paragraph they amend (the server's
// `/amendments/{a}/redline`, fetched again once the body or the amendment's text changed and
// typing paused), the warning when the paragraph moved on since the amendment was made (with
// the three-way view: what it proposes, what changed since), and the facilitators' Accept,
// which then asks to confirm overwriting those later edits.
import { el, button, debounce } from './dom.js'
import { get } from './api.js'
import { redline, changes } from './redline.js'
import { note } from './feedback.js'

let ctx = null
// Amendment id -> { key (the body and text the answer is for), answer, tries, asking }.
const redlines = new Map()
// Amendments whose acceptance waits for the facilitator's confirmation.
const confirming = new Set()

/** `context`: `{conn, say, published()}`. */
export function initAmendments (context) {
  ctx = context
}

const textKey = (body, text) => `${body}\u0000${text}`

function localKey (amendment, paragraph) {
  const body = ctx.conn.text({ kind: 'body', id: paragraph }) ?? ''
  const text = ctx.conn.text({ kind: 'amendment-text', id: amendment }) ?? ''
  return textKey(body, text)
}

/** Where an amendment's redline goes (filled from what was fetched, else once it is). */
export function redlineSlot (a) {
  const slot = el('div', {
    class: 'amendment-redline', 'data-redline': a.id, 'data-paragraph': a.new_after ? '' : a.paragraph,
    'aria-live': 'polite'
  })
  const known = redlines.get(a.id)
  if (known && known.answer) fill(slot, known.answer)
  else slot.append(el('p', { class: 'pending' }, 'Comparing with the paragraph…'))
  return slot
}

function fill (slot, answer) {
  // No wording for an existing paragraph proposes to delete it (accepted, it is deleted).
  const deletes = !answer.amendment.new_after && !answer.amendment.text.trim()
  slot.dataset.proposes = answer.amendment.new_after ? 'insert' : deletes ? 'delete' : 'rewording'
  const nodes = [
    el('span', { class: 'field-label' }, answer.amendment.new_after
      ? 'Proposed new paragraph'
      : deletes ? 'Proposed: delete the paragraph'
        : 'Proposed change to the paragraph as it reads now'),
    el('div', { class: 'text redline', 'aria-label': `Amendment ${answer.amendment.id} as a change to the paragraph` },
      redline(answer.redline, 'both'))
  ]
  if (!changes(answer.redline)) nodes.push(el('p', { class: 'pending' }, 'No change proposed yet: the text reads as the paragraph.'))
  if (answer.moved_on) {
    const warning = el('div', { class: 'moved-on', role: 'note', 'data-moved-on': answer.amendment.id },
      el('p', {}, el('strong', {}, 'The paragraph changed since this amendment was made.'),
        ' Accepting it would overwrite those later edits.'))
    if (answer.proposed) {
      warning.append(el('span', { class: 'field-label' }, 'What the amendment proposes, against the text it was made on'),
        el('div', { class: 'text', 'data-three-way': 'proposed' }, redline(answer.proposed, 'both')))
    }
    if (answer.since) {
      warning.append(el('span', { class: 'field-label' }, 'What changed in the paragraph since'),
        el('div', { class: 'text', 'data-three-way': 'since' }, redline(answer.since, 'both')))
    }
    nodes.push(warning)
  }
  slot.replaceChildren(...nodes)
  slot.dataset.movedOn = String(!!answer.moved_on)
}

// Each redline is one request that reads the whole document on the server: a few at a time.
const AT_ONCE = 2
let asking = 0

/** Fetches the redlines whose body or text changed since (once typing paused). */
export const refreshRedlines = debounce(() => ask(), 500)

function ask () {
  if (!ctx || ctx.published()) return
  // What is typed here reaches the server first: the acknowledgement renders, and asks again.
  if (!ctx.conn.status().saved) return
  for (const slot of document.querySelectorAll('[data-redline]')) {
    if (asking >= AT_ONCE) return
    const id = slot.dataset.redline
    const paragraph = slot.dataset.paragraph || ''
    const known = redlines.get(id) || { tries: 0 }
    const now = paragraph ? localKey(id, paragraph) : textKey('', ctx.conn.text({ kind: 'amendment-text', id }) ?? '')
    if (known.asking || known.key === now) continue
    // An answer that never matches (it should): a few tries, then wait for a change.
    if (known.triedFor === now && known.tries >= 3) continue
    fetchRedline(id, now, known)
  }
}

async function fetchRedline (id, now, known) {
  known.asking = true
  asking++
  known.tries = known.triedFor === now ? known.tries + 1 : 1
  known.triedFor = now
  redlines.set(id, known)
  try {
    const answer = await get(ctx.conn, `/amendments/${encodeURIComponent(id)}/redline`)
    known.answer = answer
    known.key = textKey(answer.amendment.new_after ? '' : answer.body, answer.amendment.text)
    const slot = document.querySelector(`[data-redline="${CSS.escape(id)}"]`)
    if (slot) fill(slot, answer)
  } catch (error) {
    // Gone (withdrawn, or the document was reloaded): the next render says what there is.
    known.key = now
  } finally {
    known.asking = false
    asking--
  }
  // The next ones, and this one again if its text changed meanwhile.
  ask()
}

/** Whether the body changed since the amendment was made (the server's own test). */
function movedOn (a) {
  // The client says whether the body moved on (it no longer sends the body it was made on).
  return !!a.moved_on
}

/** The facilitators' Accept and Reject, with the confirmation Accept asks for when the
 *  paragraph moved on. `run` sends a command and reports a refusal. A locked paragraph takes
 *  no amendment: Accept is not offered there (Reject is: a proposal may be turned down). */
export function decisionControls (a, label, run, locked) {
  const rejectControls = decidedWithReason(a, 'reject', 'Reject', 'rejected', run)
  if (locked) {
    return [el('span', { class: 'hint', 'data-hint': `accept-locked:${a.id}` },
      `Paragraph ${label} is locked: unlock it to accept this amendment.`), ...rejectControls]
  }
  const confirm = el('div', {
    class: 'confirm', role: 'group', 'data-confirm': a.id,
    'aria-label': `Confirm accepting amendment ${a.id} over later edits`
  })
  const over = button('Accept over the later edits', async () => {
    confirming.delete(a.id)
    confirm.hidden = true
    await accept(a, true)
  }, { class: 'primary', 'data-control': `accept-over:${a.id}` })
  confirm.append(
    el('p', {}, `Paragraph ${label} changed since amendment ${a.id} was made. Accepting the amendment replaces the paragraph's words it changes, and overwrites the later edits to them shown above.`),
    over,
    button('Cancel', () => { confirming.delete(a.id); confirm.hidden = true }, { 'data-control': `accept-cancel:${a.id}` }))
  confirm.hidden = !confirming.has(a.id)
  const ask = () => {
    confirming.add(a.id)
    confirm.hidden = false
    refreshRedlines()
    over.focus()
  }
  const acceptButton = button('Accept', () => {
    if (movedOn(a)) return ask()
    accept(a, false, ask)
  }, { 'data-control': `accept:${a.id}` })
  // Rejecting says why: the reason is recorded with the decision and shown to everyone.
  return [acceptButton, ...rejectControls, confirm]
}

/** A rejected amendment reopened by a facilitator, for a reason. */
export function reopenControls (a, run) {
  return decidedWithReason(a, 'reopen', 'Reopen', 'reopened', run)
}

/** A reason field and the button that sends command `type` with it (never without one). */
function decidedWithReason (a, type, label, done, run) {
  const reason = el('input', { 'aria-label': `Why amendment ${a.id} is ${done}`, placeholder: `Reason (${label.toLowerCase()})`, 'data-control': `${type}-reason:${a.id}` })
  const send = button(label, () => {
    const why = reason.value.trim()
    if (!why) {
      ctx.say(`Say why amendment ${a.id} is ${done}: the reason is recorded.`)
      reason.focus()
      return
    }
    run({ type, amendment: a.id, reason: why })
  }, { 'data-control': `${type}:${a.id}` })
  return [reason, send]
}

async function accept (a, overLaterEdits, ask) {
  const command = { type: 'accept', amendment: a.id, over_later_edits: overLaterEdits }
  let error = null
  try {
    const result = await ctx.conn.command(command)
    error = result.error || null
  } catch (refused) {
    error = refused
  }
  if (!error) return
  if (error.code === 'body-moved-on' && ask) {
    // The server saw later edits this page had not: show them and ask.
    redlines.delete(a.id)
    return ask()
  }
  // Said at the paragraph, like every refusal (offline included: a decision taken on what
  // the page showed is not queued for later, when the text may have moved on).
  const why = error.code === 'offline' ? 'the connection is lost; accept again once it is back' : (error.message || error.code)
  note(a.paragraph, `Not done (accept ${a.id}): ${why}`, { kind: 'refused', amendment: a.id })
}
