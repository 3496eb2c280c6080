// The negotiation's process beside the text: the programme of work of each round (the item
// under way marked, facilitators mark it), the reading under way ("Now under discussion:
// paragraph 12 — Second reading", the pointer's paragraph highlighted, "Follow the room"
// scrolling it into view until the person scrolls away), and the facilitators' reading tools
// (start, "Discuss here", next, end); the forms for rounds and items are rounds.js's. It also decides which process the page shows: the
// replica's (the model's), or for observers of published revisions only, whose replica has
// none, the read API's; notices and silence procedures are drawn from it by their modules.
import { el, button, debounce } from './dom.js'
import { get } from './api.js'
import { renderNotices } from './notices.js'
import { renderSilences } from './silence.js'
import { newRoundForm, addItemForm, removeItemControl } from './rounds.js'

const $ = (id) => document.getElementById(id)
const KINDS = { theme: 'theme discussion', reading: 'reading', 'general-comments': 'general comments', other: '' }
// Keys that scroll the page when nothing editable has focus.
const SCROLL_KEYS = new Set(['PageUp', 'PageDown', 'Home', 'End', 'ArrowUp', 'ArrowDown', ' '])

let ctx = null
const state = {
  model: null,
  // The read API's answer, for observers of published revisions only.
  fetched: null,
  follow: { on: false, decided: false, seen: null },
  keys: { programme: null, tools: null },
  // Whether a reading was shown the last time (its marks may need clearing).
  highlighted: false
}

/** `context`: `{conn, say, run, role(), published(), model()}`. */
export function initProcess (context) {
  ctx = context
  $('follow').addEventListener('change', () => setFollow($('follow').checked, ''))
  // Scrolling by the person (not the page's own scrolling) stops following the room.
  const away = () => { if (state.follow.on) setFollow(false, '(off: you scrolled away)') }
  window.addEventListener('wheel', away, { passive: true })
  window.addEventListener('touchmove', away, { passive: true })
  window.addEventListener('keydown', (event) => {
    if (SCROLL_KEYS.has(event.key) && !editable(event.target)) away()
  })
  // Observers of published revisions only ask again when they come back to the page.
  window.addEventListener('focus', pollProcess)
  // Dragging the page's scroll bar.
  window.addEventListener('pointerdown', (event) => {
    if (event.target === document.documentElement && event.clientX >= document.documentElement.clientWidth) away()
  })
}

function editable (target) {
  if (!target || !target.closest) return false
  return !!target.closest('input, textarea, select, button, [contenteditable], [role="menu"]')
}

function setFollow (on, why) {
  state.follow.on = on
  state.follow.decided = true
  $('follow').checked = on
  $('follow-hint').textContent = why
  document.body.dataset.follow = String(on)
  if (on) {
    state.follow.seen = null
    if (state.model) show(state.model)
  }
}

/** The process the page shows. */
export function processOf (model) {
  if (ctx.published()) return state.fetched || { rounds: [], readings: [], silences: [], notices: [], in_reading: [] }
  return model.process
}

const fetchProcess = debounce(async () => {
  try {
    state.fetched = { ...(await get(ctx.conn, '/process')), in_reading: [] }
  } catch (error) {
    return
  }
  if (state.model) show(state.model)
}, 300)

/** The model was re-read (after the document's elements were rebuilt, if they were). */
export function updateProcess (model) {
  state.model = model
  if (ctx.published()) fetchProcess()
  show(model)
}

/** Every 30 seconds and on focus: observers of published revisions only hear of the process
 *  by asking. */
export function pollProcess () {
  if (state.model && ctx.published()) fetchProcess()
}

function show (model) {
  const process = processOf(model)
  const role = ctx.role()
  if (!state.follow.decided && role) {
    state.follow.decided = true
    setFollow(role === 'delegation', '')
  }
  $('process').hidden = !role
  renderNow(model, process)
  renderProgramme(process, model, role === 'facilitator')
  renderTools(model, process, role === 'facilitator')
  highlight(model, process)
  renderNotices(process, model)
  renderSilences(process, model)
}

/** The reading under way, if any. */
export function openReading (process) {
  return process.readings.find((r) => r.ended_at_ms === null || r.ended_at_ms === undefined) || null
}

function named (model, id) {
  const p = model.paragraphs.find((q) => q.id === id)
  if (!p) return id
  return p.kind === 'heading' ? p.body : `paragraph ${p.label}`
}

// ----- "Now under discussion" -----

function renderNow (model, process) {
  const line = $('now')
  const reading = openReading(process)
  let text = ''
  if (reading && reading.pointer) {
    text = `Now under discussion: ${named(model, reading.pointer)} — ${reading.name}`
  } else if (reading) {
    text = `${reading.name} under way: nothing under discussion yet.`
  } else {
    const current = currentItem(process)
    if (current) text = `Now: ${current.item.title} (${current.round.name})`
  }
  line.hidden = !text
  line.dataset.pointer = (reading && reading.pointer) || ''
  // Following makes sense while a reading runs.
  line.querySelector('.follow').hidden = !reading
  if ($('now-text').textContent !== text) $('now-text').textContent = text
}

function currentItem (process) {
  for (const round of process.rounds) {
    if (!round.current) continue
    const [d, i] = round.current
    const item = round.programme[d] && round.programme[d].items[i]
    if (item) return { round, item }
  }
  return null
}

/** The pointer's paragraph highlighted; followed into view when it moved. */
function highlight (model, process) {
  const reading = openReading(process)
  const pointer = reading && reading.pointer
  // Nothing under discussion, now or before: nothing to clear or mark (this runs after every
  // change, and the queries below scan the whole page).
  if (!reading && !state.highlighted) {
    state.follow.seen = null
    return
  }
  state.highlighted = !!reading
  for (const node of document.querySelectorAll('#document > .under-discussion')) {
    node.classList.remove('under-discussion')
    node.removeAttribute('data-under-discussion')
  }
  for (const b of document.querySelectorAll('[data-control^="discuss:"]')) b.disabled = false
  const target = pointer && document.querySelector(`#document > [data-paragraph="${CSS.escape(pointer)}"], #document > [data-heading="${CSS.escape(pointer)}"]`)
  if (target) {
    target.classList.add('under-discussion')
    target.dataset.underDiscussion = 'true'
    const own = target.querySelector(`[data-control="discuss:${CSS.escape(pointer)}"]`)
    if (own) own.disabled = true
  }
  const seen = reading ? `${reading.id}:${reading.visits.length}:${pointer}` : null
  if (seen === state.follow.seen) return
  state.follow.seen = seen
  if (state.follow.on && target && ctx.view() === 'text') target.scrollIntoView({ block: 'center', behavior: 'instant' })
}

// ----- the programme of work -----

/** "Tuesday 3 April 2018" from "2018-04-03". */
function calendar (date, weekday = true) {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
    weekday: weekday ? 'long' : undefined, day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'
  })
}

function renderProgramme (process, model, facilitator) {
  // Facilitators' forms offer the text's paragraphs and themes: those change them too.
  const offered = facilitator && [model.themes.map((t) => [t.id, t.name]),
    model.paragraphs.map((p) => [p.id, p.label, p.status === 'deleted', p.kind === 'heading' && p.body])]
  const key = JSON.stringify([process.rounds, facilitator, offered])
  if (key === state.keys.programme) return
  state.keys.programme = key
  const box = $('programme')
  box.hidden = process.rounds.length === 0 && !facilitator
  // What a facilitator is typing into the forms, and where, survives the redraw (another
  // facilitator's change redraws the programme).
  const typed = new Map([...box.querySelectorAll('input[data-control], select[data-control]')]
    .map((n) => [n.dataset.control, n.value]))
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.control : null
  box.replaceChildren(el('h2', {}, 'Programme of work'), ...process.rounds.map((round) => {
    const days = round.programme.map((d, di) => el('li', { 'data-day': `${round.id}:${di}` },
      el('h4', {}, calendar(d.date)),
      el('ol', { class: 'items' }, d.items.map((item, ii) => itemView(round, di, ii, item, facilitator)))))
    return el('article', { class: 'round', 'data-round': round.id },
      el('h3', {}, round.name),
      el('p', { class: 'round-line' },
        `${calendar(round.starts_on, false)} – ${calendar(round.ends_on, false)}${round.place ? ` · ${round.place}` : ''}`),
      days.length ? el('ol', { class: 'days' }, days) : el('p', { class: 'pending' }, 'No programme yet.'),
      facilitator ? addItemForm(round, model) : null)
  }), facilitator ? newRoundForm() : null)
  for (const n of box.querySelectorAll('input[data-control], select[data-control]')) {
    const value = typed.get(n.dataset.control)
    if (value === undefined || (n.tagName === 'SELECT' && ![...n.options].some((o) => o.value === value))) continue
    n.value = value
    if (n.tagName === 'SELECT') n.dispatchEvent(new Event('change'))
  }
  if (focused) box.querySelector(`[data-control="${CSS.escape(focused)}"]`)?.focus()
}

function itemView (round, di, ii, item, facilitator) {
  const current = !!round.current && round.current[0] === di && round.current[1] === ii
  const kind = KINDS[item.kind]
  const li = el('li', {
    class: current ? 'item current' : 'item',
    'data-item': `${round.id}:${di}:${ii}`,
    'aria-current': current ? 'true' : undefined
  },
  item.time ? el('span', { class: 'time' }, item.time) : null,
  el('span', { class: 'title' }, item.title),
  kind ? el('span', { class: 'kind' }, kind) : null,
  current ? el('strong', { class: 'now-mark' }, 'now') : null)
  if (facilitator) {
    li.append(current
      ? button('Clear', () => ctx.run({ type: 'set-current-item', round: round.id }),
        { 'data-control': `current-clear:${round.id}`, 'aria-label': `No item of ${round.name} under way` })
      : button('Mark current', () => ctx.run({ type: 'set-current-item', round: round.id, day: di, item: ii }),
        { 'data-control': `current:${round.id}:${di}:${ii}`, 'aria-label': `Mark ${item.title} as under way` }),
    removeItemControl(round, di, ii, item))
  }
  return li
}

// ----- the facilitators' reading tools -----

/** What, in the reading, changes the paragraphs' controls (for app.js's rebuild). */
export function readingShape (model) {
  if (ctx.role() !== 'facilitator') return null
  const reading = openReading(processOf(model))
  return reading ? [reading.id, model.process.in_reading] : null
}

/** "Discuss here" on a paragraph the reading under way covers (facilitators). */
export function discussControl (p) {
  const model = ctx.model()
  if (!model || ctx.role() !== 'facilitator') return null
  const reading = openReading(processOf(model))
  if (!reading || !model.process.in_reading.includes(p.id)) return null
  return button('Discuss here', () => ctx.run({ type: 'move-pointer', reading: reading.id, paragraph: p.id }),
    { 'data-control': `discuss:${p.id}`, 'aria-label': `Discuss paragraph ${p.label} now` })
}

function renderTools (model, process, facilitator) {
  const box = $('reading-tools')
  box.hidden = !facilitator
  if (!facilitator) return
  const reading = openReading(process)
  const key = JSON.stringify([reading && [reading.id, reading.pointer, reading.name],
    model.paragraphs.map((p) => [p.id, p.label, p.kind === 'heading' && p.body]), process.rounds.map((r) => [r.id, r.name])])
  if (key === state.keys.tools) return
  state.keys.tools = key
  if (reading) {
    const range = model.process.in_reading
    const at = range.indexOf(reading.pointer)
    const next = range.slice(at + 1).find((id) => model.paragraphs.some((p) => p.id === id && p.kind !== 'heading'))
    box.replaceChildren(el('p', {},
      `${reading.name}: from ${reading.from ? named(model, reading.from) : 'the start'} to ${reading.to ? named(model, reading.to) : 'the end'}.`),
    el('div', { class: 'controls' },
      next ? button(`Next: ${named(model, next)}`, () => ctx.run({ type: 'move-pointer', reading: reading.id, paragraph: next }),
        { 'data-control': 'pointer-next' }) : null,
      button('End reading', () => ctx.run({ type: 'end-reading', reading: reading.id }), { 'data-control': 'end-reading' })))
    return
  }
  const kept = (id) => { const input = document.getElementById(id); return input ? input.value : '' }
  const name = el('input', { id: 'reading-name', required: true, placeholder: 'e.g. Second reading', size: '16' })
  name.value = kept('reading-name')
  const choice = (id, none) => {
    const select = el('select', { id },
      el('option', { value: '' }, none),
      model.paragraphs.map((p) => el('option', { value: p.id }, p.kind === 'heading' ? p.body : p.label)))
    select.value = kept(id)
    return select
  }
  const from = choice('reading-from', 'the start')
  const to = choice('reading-to', 'the end')
  const round = el('select', { id: 'reading-round' }, el('option', { value: '' }, 'no round'),
    process.rounds.map((r) => el('option', { value: r.id }, r.name)))
  round.value = kept('reading-round')
  const form = el('form', { class: 'controls', 'aria-label': 'Start a reading' },
    el('label', { for: 'reading-name' }, 'Reading'), name,
    el('label', { for: 'reading-from' }, 'from'), from,
    el('label', { for: 'reading-to' }, 'to'), to,
    el('label', { for: 'reading-round' }, 'in'), round,
    el('button', { type: 'submit', 'data-control': 'start-reading' }, 'Start reading'))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const command = { type: 'start-reading', name: name.value.trim() }
    if (from.value) command.from = from.value
    if (to.value) command.to = to.value
    if (round.value) command.round = round.value
    if (await ctx.run(command)) name.value = ''
  })
  box.replaceChildren(form)
}
