// The facilitators' tools for rounds and their programme of work, beside the programme
// process.js draws: a new round (name, dates, place), an item added to one of a round's days
// (time, title, kind; the theme of a theme discussion, the part of the text a reading
// covers), and an item taken off. The server takes a programme whole (`set-programme`), so
// the page sends the round's programme as the document has it with the one change made.
import { el, button } from './dom.js'

let ctx = null

const KIND_NAMES = [['reading', 'Reading'], ['theme', 'Theme discussion'], ['general-comments', 'General comments'], ['other', 'Other']]

/** `context`: `{run, say}`. */
export function initRounds (context) {
  ctx = context
}

/** The days a round runs, `YYYY-MM-DD`, first to last (at most a few weeks). */
function daysOf (round) {
  const days = []
  const day = new Date(`${round.starts_on}T00:00:00Z`)
  const last = new Date(`${round.ends_on}T00:00:00Z`)
  while (day <= last && days.length < 62) {
    days.push(day.toISOString().slice(0, 10))
    day.setUTCDate(day.getUTCDate() + 1)
  }
  return days
}

/** The programme as the command takes it, with `change` applied to a copy. */
function programmeWith (round, change) {
  const days = round.programme.map((d) => ({ date: d.date, items: d.items.map((i) => ({ ...i })) }))
  change(days)
  return days.filter((d) => d.items.length).sort((a, b) => (a.date < b.date ? -1 : 1))
}

/** Empties the page's fields with these controls. */
function clear (controls) {
  for (const control of controls) {
    const input = document.querySelector(`[data-control="${CSS.escape(control)}"]`)
    if (input) input.value = ''
  }
}

function field (id, label, input) {
  input.id = id
  return [el('label', { for: id }, label), input]
}

/** "New round": name, first and last day, place. */
export function newRoundForm () {
  const name = el('input', { required: true, size: '18', placeholder: 'e.g. Third round', 'aria-label': 'Name of the new round', 'data-control': 'round-name' })
  const starts = el('input', { type: 'date', required: true, 'aria-label': 'First day of the round', 'data-control': 'round-starts' })
  const ends = el('input', { type: 'date', required: true, 'aria-label': 'Last day of the round', 'data-control': 'round-ends' })
  const place = el('input', { size: '18', placeholder: 'e.g. Conference Room 2', 'aria-label': 'Where the round meets', 'data-control': 'round-place' })
  const form = el('form', { class: 'controls round-form', 'aria-label': 'Create a round' },
    ...field('round-name', 'New round', name), ...field('round-starts', 'from', starts),
    ...field('round-ends', 'to', ends), ...field('round-place', 'at', place),
    el('button', { type: 'submit', 'data-control': 'create-round' }, 'Create round'))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!name.value.trim() || !starts.value || !ends.value) {
      ctx.say('A round needs a name, a first day and a last day.')
      return
    }
    const created = await ctx.run({ type: 'create-round', name: name.value.trim(), starts_on: starts.value, ends_on: ends.value, place: place.value.trim() })
    // The programme may have been redrawn meanwhile (with what was typed): the form on the
    // page now is the one to clear.
    if (created) clear(['round-name', 'round-starts', 'round-ends', 'round-place'])
  })
  return form
}

/** "Add to the programme" for `round`: the day, time, title, kind, and what the item is on. */
export function addItemForm (round, model) {
  const id = (what) => `item-${what}-${round.id}`
  const day = el('select', { 'aria-label': `Day of ${round.name} the item is on`, 'data-control': `item-day:${round.id}` },
    daysOf(round).map((d) => el('option', { value: d }, d)))
  const time = el('input', { size: '11', placeholder: '10:00-13:00', 'aria-label': 'Time of the item', 'data-control': `item-time:${round.id}` })
  const title = el('input', { size: '22', placeholder: 'e.g. Objectives 1 to 7', 'aria-label': 'Title of the item', 'data-control': `item-title:${round.id}` })
  const kind = el('select', { 'aria-label': 'Kind of item', 'data-control': `item-kind:${round.id}` }, KIND_NAMES.map(([v, n]) => el('option', { value: v }, n)))
  const on = el('select', { 'aria-label': 'What the item is on', 'data-control': `item-on:${round.id}` })
  const fillOn = () => {
    // A theme discussion is on a theme; a reading on a part of the text; the rest on nothing.
    const options = kind.value === 'theme'
      ? model.themes.map((t) => el('option', { value: `theme:${t.id}` }, t.name))
      : kind.value === 'reading'
        ? [el('option', { value: '' }, 'the whole text'),
            ...model.paragraphs.filter((p) => p.status !== 'deleted')
              .map((p) => el('option', { value: `paragraph:${p.id}` }, p.kind === 'heading' ? p.body : `paragraph ${p.label}`))]
        : []
    on.replaceChildren(...options)
    on.hidden = options.length === 0
    on.previousElementSibling.hidden = on.hidden
  }
  kind.addEventListener('change', fillOn)
  const form = el('form', { class: 'controls item-form', 'aria-label': `Add an item to the programme of ${round.name}` },
    ...field(id('day'), 'Add on', day), ...field(id('time'), 'at', time), ...field(id('title'), 'item', title),
    ...field(id('kind'), 'kind', kind), ...field(id('on'), 'on', on),
    el('button', { type: 'submit', 'data-control': `add-item:${round.id}` }, 'Add to the programme'))
  fillOn()
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!title.value.trim()) {
      ctx.say('Name the item (e.g. "Objectives 1 to 7").')
      title.focus()
      return
    }
    const item = { kind: kind.value, title: title.value.trim(), time: time.value.trim() }
    const [what, target] = on.hidden ? [] : on.value.split(':')
    if (what === 'theme') item.theme = target
    if (what === 'paragraph') item.paragraphs = [target]
    const programme = programmeWith(round, (days) => {
      let d = days.find((x) => x.date === day.value)
      if (!d) days.push(d = { date: day.value, items: [] })
      d.items.push(item)
    })
    if (await ctx.run({ type: 'set-programme', round: round.id, programme })) {
      clear([`item-title:${round.id}`, `item-time:${round.id}`])
    }
  })
  return form
}

/** "Remove" on an item of the programme. */
export function removeItemControl (round, di, ii, item) {
  return button('Remove', () => ctx.run({
    type: 'set-programme',
    round: round.id,
    programme: programmeWith(round, (days) => { days[di].items.splice(ii, 1) })
  }), { 'data-control': `remove-item:${round.id}:${di}:${ii}`, 'aria-label': `Remove ${item.title} from the programme` })
}
