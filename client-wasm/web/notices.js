// Letters to missions (notices): the list of those addressed to this mission, newest first,
// with unread marks and the unread count; opening one marks it read (`read-notice`); its body
// is Markdown rendered as DOM nodes (never as HTML); attachments open the revision or download
// the export through the page's token. Facilitators see who read each and write new ones
// (subject, Markdown body with a preview, addressed to all missions or some, an attachment).
import { el, button } from './dom.js'
import { getFile, save } from './api.js'
import { renderMarkdown } from './markdown.js'
import { FORMATS } from './exports.js'
import { revisionName } from './revisions.js'

const $ = (id) => document.getElementById(id)
let ctx = null
// `process`: what the list was last drawn from.
const state = { opened: new Set(), key: null, attachKey: null, marking: new Set(), process: { notices: [] } }

/** `context`: `{conn, say, run, role(), model(), readRevision(id)}`. */
export function initNotices (context) {
  ctx = context
  $('notice-form').addEventListener('submit', (event) => { event.preventDefault(); publish() })
  $('notice-body').addEventListener('input', preview)
  preview()
  for (const radio of document.querySelectorAll('input[name="notice-to"]')) {
    radio.addEventListener('change', () => { $('notice-missions').disabled = !$('notice-to-some').checked })
  }
  $('letters-button').addEventListener('click', () => {
    $('notices').scrollIntoView({ block: 'start' })
    $('notices-title').focus()
  })
}

const roundName = (id) => { const r = state.process.rounds && state.process.rounds.find((x) => x.id === id); return r ? r.name : id }

const mission = () => { const s = ctx.conn.status().session; return s && s.mission }
/** Unread: a delegation's notice its mission has not read (facilitators and observers keep no
 *  read marks of their own). */
const unread = (notice) => ctx.role() === 'delegation' && !(mission() in notice.read_by)

export function renderNotices (process, model) {
  state.process = process
  const role = ctx.role()
  const facilitator = role === 'facilitator'
  const notices = [...process.notices].reverse()
  const count = notices.filter(unread).length
  $('notices-count').textContent = count ? `${count} unread` : ''
  $('notices').dataset.unread = String(count)
  $('letters-button').hidden = count === 0
  $('letters-button').textContent = `Letters: ${count} unread`
  $('notice-form').hidden = !facilitator
  if (facilitator) renderAttachChoice(model, process)
  $('notices').hidden = notices.length === 0 && !facilitator
  const named = notices.flatMap((n) => n.attachments.map((a) => a.revision && revisionName(a.revision, model.revisions.latest)))
  const key = JSON.stringify([notices, [...state.opened], role, mission(), named, (process.rounds || []).map((r) => r.name)])
  if (key === state.key) return
  state.key = key
  const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.control
  $('notice-list').replaceChildren(...(notices.length
    ? notices.map((n) => noticeView(n, facilitator, model.revisions.latest))
    : [el('li', { class: 'pending' }, 'No letters yet.')]))
  if (focused && focused.startsWith('notice:')) {
    const again = document.querySelector(`[data-control="${CSS.escape(focused)}"]`)
    if (again) again.focus()
  }
}

function noticeView (n, facilitator, latest) {
  const open = state.opened.has(n.id)
  const isUnread = unread(n)
  const when = new Date(n.published_at_ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })
  const toggle = button([
    isUnread ? el('span', { class: 'unread-mark' }, 'Unread') : null,
    el('span', { class: 'subject' }, n.subject),
    el('span', { class: 'meta' }, ` · ${when} · ${n.published_by.mission}`)
  ], () => toggleNotice(n), {
    class: 'notice-toggle', 'aria-expanded': String(open), 'aria-controls': `notice-body-${n.id}`, 'data-control': `notice:${n.id}`
  })
  const li = el('li', { class: isUnread ? 'notice unread' : 'notice', 'data-notice': n.id, 'data-unread': String(isUnread) }, toggle)
  if (!open) return li
  const body = el('div', { class: 'notice-body cover-letter', id: `notice-body-${n.id}` }, renderMarkdown(n.body))
  const part = n.round ? roundName(n.round) : n.revision ? revisionName(n.revision, latest) : null
  const to = `${n.to.length ? `To ${n.to.join(', ')}` : 'To all missions'}${part ? `, about ${part}` : ''}`
  const readBy = Object.keys(n.read_by)
  body.prepend(el('p', { class: 'meta' }, facilitator
    ? `${to}. ${readBy.length ? `Read by ${readBy.join(', ')}.` : 'Not read yet.'}`
    : `${to}. From ${n.published_by.person} (${n.published_by.mission}).`))
  if (n.attachments.length) {
    body.append(el('ul', { class: 'attachments', 'aria-label': 'Attachments' },
      n.attachments.map((a, i) => el('li', {}, attachmentView(n, a, i, latest)))))
  }
  li.append(body)
  return li
}

async function toggleNotice (n) {
  if (state.opened.has(n.id)) {
    state.opened.delete(n.id)
  } else {
    state.opened.add(n.id)
    if (unread(n) && !state.marking.has(n.id)) {
      state.marking.add(n.id)
      ctx.run({ type: 'read-notice', notice: n.id }).finally(() => state.marking.delete(n.id))
    }
  }
  state.key = null
  renderNotices(state.process, ctx.model())
}

function formatName (format) {
  const f = FORMATS.find(([id]) => id === format)
  return f ? f[1] : format
}

function attachmentView (n, a, i, latest) {
  if (a.kind === 'revision') {
    return button(`${revisionName(a.revision, latest)} (the revision)`, () => ctx.readRevision(a.revision),
      { class: 'link', 'data-attachment': `${n.id}:${i}` })
  }
  const what = a.revision ? revisionName(a.revision, latest) : 'The live text'
  return button(`${what} as ${formatName(a.format)}`, async () => {
    const query = new URLSearchParams({ format: a.format })
    if (a.revision) query.set('revision', a.revision)
    try {
      save(await getFile(ctx.conn, `/export?${query}`, `${ctx.conn.doc}-${a.revision || 'live'}.${a.format}`))
    } catch (error) {
      ctx.say(`The attachment could not be downloaded: ${error.message}`)
    }
  }, { class: 'link', 'data-attachment': `${n.id}:${i}` })
}

// ----- the facilitators' new notice -----

function renderAttachChoice (model, process) {
  const latest = model.revisions.latest
  const rounds = process.rounds || []
  const key = JSON.stringify([latest && latest.id, rounds.map((r) => [r.id, r.name])])
  if (key === state.attachKey) return
  state.attachKey = key
  // What the letter is part of: a round (its programme, its invitations) or a revision (its
  // cover letter), shown with the letter.
  const about = $('notice-about')
  const keptAbout = about.value
  about.replaceChildren(el('option', { value: '' }, 'nothing in particular'),
    ...rounds.map((r) => el('option', { value: `round:${r.id}` }, r.name)),
    ...(latest ? [el('option', { value: `revision:${latest.id}` }, latest.name)] : []))
  if ([...about.options].some((o) => o.value === keptAbout)) about.value = keptAbout
  const select = $('notice-attach')
  const kept = select.value
  const options = [el('option', { value: '' }, 'nothing')]
  if (latest) {
    options.push(el('option', { value: `revision:${latest.id}` }, `${latest.name} (the revision)`))
    for (const [format, name] of FORMATS) options.push(el('option', { value: `export:${format}:${latest.id}` }, `${latest.name} as ${name}`))
  }
  for (const [format, name] of FORMATS) options.push(el('option', { value: `export:${format}:` }, `The live text as ${name}`))
  select.replaceChildren(...options)
  if ([...select.options].some((o) => o.value === kept)) select.value = kept
}

function preview () {
  const text = $('notice-body').value
  $('notice-preview').replaceChildren(...(text.trim() ? renderMarkdown(text) : [el('p', { class: 'pending' }, 'Nothing written yet.')]))
}

async function publish () {
  const subject = $('notice-subject').value.trim()
  const body = $('notice-body').value
  const command = { type: 'publish-notice', subject, body, to: [], attachments: [] }
  if ($('notice-to-some').checked) {
    command.to = $('notice-missions').value.split(',').map((m) => m.trim()).filter(Boolean)
    if (!command.to.length) return tell('refused', 'Name the missions the letter is for, e.g. MEX, CHE.')
  }
  const attach = $('notice-attach').value
  if (attach.startsWith('revision:')) command.attachments.push({ kind: 'revision', revision: attach.slice(9) })
  if (attach.startsWith('export:')) {
    const [, format, revision] = attach.split(':')
    command.attachments.push(revision ? { kind: 'export', format, revision } : { kind: 'export', format })
  }
  const [aboutKind, aboutId] = $('notice-about').value.split(':')
  if (aboutKind === 'round') command.round = aboutId
  if (aboutKind === 'revision') command.revision = aboutId
  tell('working', 'Sending…')
  if (await ctx.run(command)) {
    tell('sent', `Sent "${subject}" to ${command.to.length ? command.to.join(', ') : 'all missions'}.`)
    $('notice-subject').value = ''
    $('notice-body').value = ''
    preview()
  } else {
    tell('refused', 'Not sent: see the message above.')
  }
}

function tell (outcome, text) {
  const result = $('notice-result')
  result.dataset.outcome = outcome
  result.textContent = text
}
