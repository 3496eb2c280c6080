// The facilitators' controls on a paragraph: its status, set only by Set (choosing with the
// arrow keys commits nothing; agreed pending asks first for the missions agreement waits for),
// and its lock, which needs a reason and may set a status with it; and how a status reads.
import { el, button } from './dom.js'

const STATUS_NAMES = {
  open: 'open', 'agreed-ad-ref': 'agreed ad ref', agreed: 'agreed', 'agreed-pending': 'agreed pending…', held: 'held', deleted: 'deleted'
}

let ctx = null
// Paragraphs a facilitator is setting agreed pending: the missions typed so far (kept when the
// document's elements are rebuilt meanwhile).
const askingPending = new Map()
// Statuses chosen but not yet Set (kept when the document's elements are rebuilt meanwhile).
const choosing = new Map()

/** `context`: `{run, say, redraw(), lockedHere(paragraph, locked, reason, before)}` (`redraw`: rebuild
 *  the document's elements; `lockedHere`: offer an Undo). */
export function initStatus (context) {
  ctx = context
}

// A paragraph's status as read: "agreed pending EU, CHE" names whom agreement waits for.
export function statusName (p) {
  if (p.status === 'agreed-pending') return `agreed pending ${(p.pending || []).join(', ')}`
  return STATUS_NAMES[p.status] || p.status
}

export function facilitatorControls (p) {
  const controls = el('div', { class: 'controls' })
  const select = el('select', { 'aria-label': `Status of paragraph ${p.label}`, 'data-control': `status:${p.id}` })
  // Agreed pending needs its missions (a command with `pending`): shown when it is the status.
  const names = p.status === 'agreed-pending'
    ? { ...STATUS_NAMES, 'agreed-pending': statusName(p) }
    : STATUS_NAMES
  if (choosing.get(p.id) === p.status) choosing.delete(p.id)
  const shown = askingPending.has(p.id) ? 'agreed-pending' : (choosing.get(p.id) || p.status)
  for (const [value, name] of Object.entries(names)) {
    const option = el('option', { value }, name)
    if (value === shown) option.selected = true
    select.append(option)
  }
  // Choosing (arrow keys included) commits nothing: Set does.
  select.addEventListener('change', () => choosing.set(p.id, select.value))
  const set = button('Set', () => {
    choosing.delete(p.id)
    if (select.value === 'agreed-pending') {
      // Agreement waits for named missions: asked for before anything is sent.
      askingPending.set(p.id, '')
      if (!controls.querySelector('.pending-form')) set.after(pendingForm(p))
      controls.querySelector('.pending-form input').focus()
      return
    }
    askingPending.delete(p.id)
    const form = controls.querySelector('.pending-form')
    if (form) form.remove()
    if (select.value === p.status) return
    ctx.run({ type: 'set-status', paragraph: p.id, status: select.value })
  }, { 'data-control': `set-status:${p.id}`, 'aria-label': `Set the status of paragraph ${p.label}` })
  controls.append(select, set)
  if (askingPending.has(p.id)) controls.append(pendingForm(p))
  controls.append(...lockControls(p))
  return controls
}

/** Lock (a reason required, and the status it may set with it) or Unlock (a reason), each
 *  followed by a short Undo. */
function lockControls (p) {
  const verb = p.lock ? 'unlock' : 'lock'
  const reason = el('input', {
    'aria-label': `Reason to ${verb} paragraph ${p.label}`,
    placeholder: p.lock ? 'reason to reopen' : 'e.g. agreed ad ref',
    'data-control': `${verb}-reason:${p.id}`,
    'aria-describedby': `${verb}-error-${p.id}`
  })
  const error = el('span', { class: 'field-error', id: `${verb}-error-${p.id}`, 'data-error': `${verb}:${p.id}` })
  const parts = [reason]
  let withStatus = null
  if (!p.lock) {
    withStatus = el('select', { 'aria-label': `Status to set with the lock on paragraph ${p.label}`, 'data-control': `lock-status:${p.id}` },
      el('option', { value: '' }, 'keep the status'),
      ...Object.entries(STATUS_NAMES).filter(([value]) => value !== 'agreed-pending' && value !== p.status)
        .map(([value, name]) => el('option', { value }, `and set ${name}`)))
    reason.addEventListener('input', () => {
      // "agreed ad ref" as the reason offers that status with it.
      const typed = reason.value.trim().toLowerCase().replace(/\.$/, '')
      const match = Object.entries(STATUS_NAMES).find(([value, name]) => name === typed && value !== p.status && value !== 'agreed-pending')
      if (match && !withStatus.dataset.chosen) withStatus.value = match[0]
    })
    withStatus.addEventListener('change', () => { withStatus.dataset.chosen = 'true' })
    parts.push(withStatus)
  }
  const act = button(p.lock ? 'Unlock' : 'Lock', async () => {
    const why = reason.value.trim()
    if (!why) {
      error.textContent = p.lock ? 'Say why it is unlocked: the reason is recorded.' : 'Say why it is locked (e.g. agreed ad ref): the reason is recorded.'
      reason.setAttribute('aria-invalid', 'true')
      reason.focus()
      return
    }
    const command = { type: verb, paragraph: p.id, reason: why }
    if (withStatus && withStatus.value) command.status = withStatus.value
    // Undo puts back the status the lock replaced, too.
    const before = command.status ? { status: p.status, pending: p.pending || [] } : null
    if (await ctx.run(command)) ctx.lockedHere(p.id, !p.lock, why, before)
  }, { 'data-control': `${verb}:${p.id}` })
  reason.addEventListener('keydown', (e) => { if (e.key === 'Enter') act.click() })
  parts.push(act, error)
  return parts
}

/** Which missions agreement on `p` waits for, then `set-status agreed-pending`. */
function pendingForm (p) {
  const input = el('input', {
    'aria-label': `Missions agreement on paragraph ${p.label} waits for`,
    placeholder: 'e.g. EU, CHE',
    size: '12',
    'data-control': `pending:${p.id}`
  })
  input.value = askingPending.get(p.id) || (p.pending || []).join(', ')
  input.addEventListener('input', () => askingPending.set(p.id, input.value))
  const set = button('Set agreed pending', async () => {
    const missions = input.value.split(',').map((m) => m.trim()).filter(Boolean)
    if (!missions.length) return ctx.say('Name the missions agreement waits for, e.g. EU, CHE.')
    askingPending.set(p.id, input.value)
    if (await ctx.run({ type: 'set-status', paragraph: p.id, status: 'agreed-pending', pending: missions })) {
      askingPending.delete(p.id)
      ctx.redraw()
    }
  }, { 'data-control': `set-pending:${p.id}` })
  const cancel = button('Cancel', () => {
    askingPending.delete(p.id)
    ctx.redraw()
  }, { 'data-control': `cancel-pending:${p.id}` })
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') set.click() })
  return el('span', { class: 'pending-form' }, input, set, cancel)
}
