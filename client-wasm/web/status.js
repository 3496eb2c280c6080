// The facilitators' controls on a paragraph: its status (agreed pending asks first for the
// missions agreement waits for) and its lock; and how a status reads.
import { el, button } from './dom.js'

const STATUS_NAMES = {
  open: 'open', 'agreed-ad-ref': 'agreed ad ref', agreed: 'agreed', 'agreed-pending': 'agreed pending…', held: 'held', deleted: 'deleted'
}

let ctx = null
// Paragraphs a facilitator is setting agreed pending: the missions typed so far (kept when the
// document's elements are rebuilt meanwhile).
const askingPending = new Map()

/** `context`: `{run, say, redraw()}` (`redraw`: rebuild the document's elements). */
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
  const shown = askingPending.has(p.id) ? 'agreed-pending' : p.status
  for (const [value, name] of Object.entries(names)) {
    const option = el('option', { value }, name)
    if (value === shown) option.selected = true
    select.append(option)
  }
  select.addEventListener('change', () => {
    if (select.value === 'agreed-pending') {
      // Agreement waits for named missions: asked for before anything is sent.
      askingPending.set(p.id, '')
      if (!controls.querySelector('.pending-form')) select.after(pendingForm(p))
      controls.querySelector('.pending-form input').focus()
      return
    }
    askingPending.delete(p.id)
    const form = controls.querySelector('.pending-form')
    if (form) form.remove()
    ctx.run({ type: 'set-status', paragraph: p.id, status: select.value })
  })
  controls.append(select)
  if (askingPending.has(p.id)) controls.append(pendingForm(p))
  const verb = p.lock ? 'unlock' : 'lock'
  const reason = el('input', {
    'aria-label': `Reason to ${verb} paragraph ${p.label}`,
    placeholder: p.lock ? 'reason to reopen' : 'e.g. agreed ad ref',
    'data-control': `${verb}-reason:${p.id}`
  })
  const act = button(p.lock ? 'Unlock' : 'Lock', () => {
    ctx.run({ type: verb, paragraph: p.id, reason: reason.value.trim() || (p.lock ? 'reopened' : 'agreed ad ref') })
  }, { 'data-control': `${verb}:${p.id}` })
  reason.addEventListener('keydown', (e) => { if (e.key === 'Enter') act.click() })
  controls.append(reason, act)
  return controls
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
