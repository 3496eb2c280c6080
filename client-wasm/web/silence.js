// Silence procedures: an open one with its deadline and what it covers, delegations breaking
// it with a statement (required: it is circulated); a concluded one adopted, or broken with who
// broke it and their statements. Facilitators put the latest revision, or paragraphs named by
// their labels (a heading's section comes with it), under silence for some hours (72 by
// default).
import { el } from './dom.js'
import { revisionName } from './revisions.js'

const $ = (id) => document.getElementById(id)
let ctx = null
const state = { key: null }

/** `context`: `{conn, run, role(), model()}`. */
export function initSilence (context) {
  ctx = context
  const scope = $('silence-scope')
  scope.addEventListener('change', () => {
    scope.dataset.chosen = 'true'
    $('silence-paragraphs').hidden = scope.value !== 'paragraphs'
    if (scope.value === 'paragraphs') $('silence-paragraphs').focus()
  })
  $('silence-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const model = ctx.model()
    const hours = Number($('silence-hours').value)
    if (!model || !(hours > 0)) return ctx.say('Say for how many hours the silence procedure runs.')
    const command = { type: 'start-silence', seconds: Math.round(hours * 3600) }
    if (scope.value === 'revision') {
      if (!model.revisions.latest) return ctx.say('No revision is published yet: name the paragraphs instead.')
      command.revision = model.revisions.latest.id
    } else {
      const wanted = $('silence-paragraphs').value.split(',').map((l) => l.trim()).filter(Boolean)
      const byLabel = new Map()
      for (const p of model.paragraphs.filter((q) => q.status !== 'deleted' && q.label)) {
        byLabel.set(p.label, [...(byLabel.get(p.label) || []), p.id])
      }
      const unknown = wanted.filter((l) => !byLabel.has(l))
      // A label two paragraphs share names neither for sure.
      const shared = wanted.filter((l) => (byLabel.get(l) || []).length > 1)
      if (!wanted.length || unknown.length || shared.length) {
        $('silence-paragraphs').focus()
        return ctx.say(!wanted.length ? 'Name the paragraphs by their labels, e.g. 17, 18.'
          : unknown.length ? `No paragraph ${unknown.join(', ')} in the text.`
            : `More than one paragraph is labelled ${shared.join(', ')}: relabel them first.`)
      }
      command.paragraphs = wanted.map((l) => byLabel.get(l)[0])
    }
    if (await ctx.run(command)) $('silence-paragraphs').value = ''
  })
}

const when = (ms) => new Date(ms).toLocaleString('en-GB', { dateStyle: 'long', timeStyle: 'short' })

function labels (model, ids) {
  const names = ids.map((id) => { const p = model.paragraphs.find((q) => q.id === id); return p ? p.label : id })
  return names.length === 1 ? `paragraph ${names[0]}` : `paragraphs ${names.join(', ')}`
}

export function renderSilences (process, model) {
  const role = ctx.role()
  const session = ctx.conn.status().session
  const mission = session && session.mission
  const silences = [...process.silences].reverse()
  const open = silences.find((s) => !s.outcome)
  const latest = model.revisions.latest
  const facilitator = role === 'facilitator' && !ctx.published()
  $('silence-form').hidden = !facilitator || !!open
  $('silence-revision-option').textContent = latest ? `${latest.name}, the latest revision` : 'the latest revision (none yet)'
  $('silence-revision-option').disabled = !latest
  // Until the facilitator chooses: the latest revision when there is one, else paragraphs.
  const scope = $('silence-scope')
  if (!scope.dataset.chosen) {
    scope.value = latest ? 'revision' : 'paragraphs'
    $('silence-paragraphs').hidden = scope.value !== 'paragraphs'
  }
  $('silences').hidden = silences.length === 0 && $('silence-form').hidden
  const key = JSON.stringify([silences, role, mission, model.paragraphs.map((p) => [p.id, p.label]),
    silences.map((s) => s.revision && revisionName(s.revision, model.revisions.latest))])
  if (key === state.key) return
  state.key = key
  // What a delegation is typing stays.
  const typing = new Map([...document.querySelectorAll('#silence-list textarea')].map((t) => [t.id, t.value]))
  $('silence-list').replaceChildren(...silences.map((s) => silenceView(s, model, role, mission, typing)))
}

function silenceView (s, model, role, mission, typing) {
  const covers = `${s.revision ? `${revisionName(s.revision, model.revisions.latest)}: ` : ''}${labels(model, s.paragraphs)}`
  const stateName = s.outcome || 'open'
  const box = el('article', { class: `silence ${stateName}`, 'data-silence': s.id, 'data-state': stateName })
  if (!s.outcome) {
    box.append(el('h3', {}, `Silence procedure on ${covers}`),
      el('p', { class: 'deadline' }, s.breaks.length
        ? `Silence was broken: nothing will be adopted. The procedure ends at ${when(s.deadline_ms)}.`
        : `Adopted at ${when(s.deadline_ms)} unless a delegation breaks silence before.`))
  } else if (s.outcome === 'adopted') {
    box.append(el('h3', {}, `Adopted under silence: ${covers}`),
      el('p', {}, `Nobody broke silence; adopted at ${when(s.concluded_at_ms || s.deadline_ms)}.`))
  } else {
    box.append(el('h3', {}, `Silence broken: ${covers}`),
      el('p', {}, `Nothing was adopted (the procedure ended ${when(s.concluded_at_ms || s.deadline_ms)}).`))
  }
  if (s.breaks.length) {
    box.append(el('ul', { class: 'breaks', 'aria-label': 'Who broke silence' }, s.breaks.map((b) =>
      el('li', { 'data-break': b.mission }, el('strong', {}, `${b.mission} (${b.person})`), `, ${when(b.at_ms)}: `,
        el('q', {}, b.statement)))))
  }
  const broken = s.breaks.some((b) => b.mission === mission)
  if (!s.outcome && role === 'delegation' && !broken) box.append(breakForm(s, typing))
  if (!s.outcome && broken) box.append(el('p', { class: 'pending' }, 'Your delegation broke silence.'))
  return box
}

function breakForm (s, typing) {
  const id = `statement-${s.id}`
  const statement = el('textarea', { id, rows: '3', required: true, 'data-control': `statement:${s.id}` })
  statement.value = typing.get(id) || ''
  const form = el('form', { class: 'break-form', 'aria-label': 'Break silence' },
    el('label', { for: id }, 'Your statement (circulated to every mission)'), statement,
    el('button', { type: 'submit', 'data-control': `break:${s.id}` }, 'Break silence'))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const text = statement.value.trim()
    if (!text) return statement.focus()
    if (await ctx.run({ type: 'break-silence', silence: s.id, statement: text })) statement.value = ''
  })
  return form
}
