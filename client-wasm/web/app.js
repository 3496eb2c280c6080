// The page delegates use: sign in, read the text, type where they may, act through commands.
// It renders what the wasm client models and never decides on its own what may be edited.
import { load, Connection } from './concord.js'

const $ = (id) => document.getElementById(id)
const STATUS_NAMES = {
  open: 'open', 'agreed-ad-ref': 'agreed ad ref', agreed: 'agreed', held: 'held', deleted: 'deleted'
}

let conn = null
let session = null
let lastShape = null
let lastConnection = null
let notice = null
// What the next frame must bring up to date: everything, or only some texts.
const pending = { full: true, texts: new Set(), queued: false }

main()

async function main () {
  const params = new URLSearchParams(location.hash.slice(1))
  const token = params.get('token')
  const doc = params.get('doc') || 'gcm'
  if (!token) return showSignIn(doc)
  await load()
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://'
  conn = new Connection({ server: scheme + location.host, doc, token, onChange: onChange })
  // For scripts and tests: the page's client.
  window.concord = conn
  document.title = `${doc} · Concord`
  conn.start()
  queueRender()
  // The expiry warning depends on the clock alone.
  setInterval(queueRender, 30000)
}

function showSignIn (doc) {
  const form = $('signin')
  form.hidden = false
  $('saved').textContent = ''
  $('signin-doc').value = doc
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const hash = new URLSearchParams({ doc: $('signin-doc').value.trim(), token: $('signin-token').value.trim() })
    location.hash = hash.toString()
    location.reload()
  })
  $('signin-token').focus()
}

function onChange (events) {
  for (const event of events) {
    if (event.type === 'texts') {
      // Someone typed: only these texts changed.
      for (const target of event.targets) pending.texts.add(key(target))
    } else if (event.type === 'status' || event.type === 'presence' || event.type === 'command-result') {
      // The header is redrawn with every frame anyway.
    } else {
      if (event.type === 'rejected') {
        say(`Your last change was not accepted: ${event.message}. Anything that cannot be applied is kept below for you to copy.`)
      }
      pending.full = true
    }
  }
  queueRender()
}

/** Redraws once per animation frame, however many messages arrived meanwhile. */
function queueRender () {
  if (pending.queued) return
  pending.queued = true
  requestAnimationFrame(() => { pending.queued = false; render() })
}

let noticeTimer = null
/** A message in the banner, which clears itself after a while. */
function say (message) {
  notice = message
  clearTimeout(noticeTimer)
  noticeTimer = setTimeout(() => { notice = null; queueRender() }, 12000)
  queueRender()
}

// ----- rendering -----

function render () {
  const status = conn.status()
  session = status.session
  renderHeader(status)
  renderRecoverable(status.recoverable)
  if (status.connection !== lastConnection) {
    // Connecting, closing and rebuilding change what may be edited.
    lastConnection = status.connection
    pending.full = true
  }
  if (pending.full) {
    const model = conn.model()
    const shape = JSON.stringify(shapeOf(model, status))
    if (shape !== lastShape) {
      lastShape = shape
      rebuild(model)
    }
    syncTexts(model)
  } else {
    for (const target of pending.texts) syncText(target, conn.text(targetOf(target)))
  }
  pending.full = false
  pending.texts.clear()
}

function renderHeader (status) {
  const who = $('who')
  who.textContent = session
    ? `${session.person} · ${session.mission} · ${session.role}`
    : ''
  const missions = new Map()
  for (const p of status.presence) {
    if (!p || !p.mission) continue
    if (!missions.has(p.mission)) missions.set(p.mission, new Set())
    missions.get(p.mission).add(p.person)
  }
  const presence = $('presence')
  presence.replaceChildren(...[...missions.entries()].sort().map(([mission, people]) => {
    const li = document.createElement('li')
    li.textContent = mission
    li.title = [...people].join(', ')
    li.dataset.mission = mission
    return li
  }))

  const saved = $('saved')
  let text, state, tone
  if (status.connection === 'closed') {
    [text, state, tone] = ['Disconnected', 'closed', 'bad']
  } else if (status.connection === 'offline') {
    [text, state, tone] = ['Offline: your changes are kept', 'offline', 'bad']
  } else if (status.connection === 'connecting') {
    [text, state, tone] = ['Connecting…', 'connecting', 'busy']
  } else if (status.unsaved) {
    [text, state, tone] = ['Saving…', 'unsaved', 'busy']
  } else {
    [text, state, tone] = ['All changes saved', 'saved', 'ok']
  }
  saved.textContent = text
  saved.dataset.state = state
  saved.className = `saved ${tone}`

  const banner = $('banner')
  let message = notice
  if (status.connection === 'closed') message = status.closed
  else if (status.connection === 'offline') {
    message = 'The connection to the server is lost. Reconnecting… Keep working: what you type stays on this page and is sent when the connection returns.'
  }
  if (!message && session && session.expires_at) {
    const left = session.expires_at * 1000 - Date.now()
    if (left < 10 * 60 * 1000) {
      const at = new Date(session.expires_at * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      message = `Your sign-in ends at ${at}. Everything you typed is saved; ask for a new sign-in link to continue after that.`
    }
  }
  banner.hidden = !message
  banner.textContent = message || ''
}

function renderRecoverable (items) {
  const section = $('recoverable')
  section.hidden = items.length === 0
  if (items.length === 0) return section.replaceChildren()
  const heading = el('h2', {}, 'Text the server could not take')
  const intro = el('p', {}, 'These changes could not be applied (for example, the paragraph was locked while you were offline). Copy them so nothing is lost.')
  const list = items.map((item, index) => {
    const box = el('div', { class: 'recovered', 'data-recovered': String(index) })
    const label = `Your text for ${describe(item.target)}`
    box.append(
      el('p', {}, `${label}: ${item.why}.`),
      el('textarea', { readonly: '', rows: '3', 'aria-label': label }, item.text),
      button('Copy', () => navigator.clipboard && navigator.clipboard.writeText(item.text)),
      button('Dismiss', () => conn.dismissRecoverable(index))
    )
    return box
  })
  section.replaceChildren(heading, intro, ...list)
}

/** What, when it changes, needs the document's elements rebuilt (texts are synced apart). */
function shapeOf (model, status) {
  return {
    role: session && session.role,
    connection: status.connection === 'closed',
    paragraphs: model.paragraphs.map((p) => [
      p.id, p.label, p.kind, p.status, !!p.lock, p.lock && p.lock.reason, p.editable, p.comments.length,
      p.amendments.map((a) => [a.id, a.status, a.sponsors, a.supporters, a.opposers, a.on_behalf_of,
        a.text_editable, a.rationale_editable, a.stale])
    ])
  }
}

function rebuild (model) {
  const focused = document.activeElement
  const focusKey = focused && focused.dataset && (focused.dataset.target || focused.dataset.control)
  const selection = focused && 'selectionStart' in focused ? [focused.selectionStart, focused.selectionEnd] : null

  const role = session && session.role
  const nodes = []
  const labels = new Map(model.paragraphs.map((p) => [p.id, p.label]))
  for (const p of model.paragraphs) {
    if (p.kind === 'heading') {
      nodes.push(el('h2', { 'data-target': key({ kind: 'body', id: p.id }), 'data-heading': p.id }, p.body))
      continue
    }
    nodes.push(paragraphView(p, role, labels))
  }
  $('document').replaceChildren(...nodes)

  if (focusKey) {
    const again = document.querySelector(`[data-target="${focusKey}"], [data-control="${focusKey}"]`)
    if (again) {
      again.focus()
      if (selection && 'selectionStart' in again) again.setSelectionRange(...selection)
    }
  }
}

function paragraphView (p, role, labels) {
  const article = el('article', {
    class: `paragraph ${p.kind}${p.lock ? ' locked' : ''}`,
    'data-paragraph': p.id,
    'aria-label': `Paragraph ${p.label}`
  })
  const head = el('div', { class: 'head' },
    el('span', { class: 'label' }, p.label),
    el('span', { class: `badge ${p.status}`, 'data-status': p.status }, STATUS_NAMES[p.status] || p.status))
  if (p.lock) {
    head.append(el('span', { class: 'lockmark', 'data-locked': p.id, title: `Locked by ${p.lock.mission}` },
      `Locked: ${p.lock.reason}`))
  }
  article.append(head)
  article.append(textView({ kind: 'body', id: p.id }, p.editable, `Text of paragraph ${p.label}`))

  if (role === 'facilitator') article.append(facilitatorControls(p))
  if (role && role !== 'observer' && !p.lock && p.status !== 'deleted') {
    article.append(el('div', { class: 'controls' },
      button('Propose an amendment', () => run({ type: 'create-amendment', paragraph: p.id }),
        { 'data-control': `propose:${p.id}` })))
  }
  if (p.amendments.length) {
    const list = el('div', { class: 'amendments', role: 'list', 'aria-label': `Amendments to paragraph ${p.label}` })
    for (const a of p.amendments) list.append(amendmentView(a, role, labels))
    article.append(list)
  }
  if (p.comments.length) {
    const ul = el('ul', { class: 'comments', 'aria-label': `Comments on paragraph ${p.label}` })
    for (const c of p.comments) ul.append(el('li', {}, `${c.mission} (${c.person}): ${c.text}`))
    article.append(ul)
  }
  if (role && role !== 'observer') article.append(commentForm(p))
  return article
}

function facilitatorControls (p) {
  const controls = el('div', { class: 'controls' })
  const select = el('select', { 'aria-label': `Status of paragraph ${p.label}`, 'data-control': `status:${p.id}` })
  for (const [value, name] of Object.entries(STATUS_NAMES)) {
    const option = el('option', { value }, name)
    if (value === p.status) option.selected = true
    select.append(option)
  }
  select.addEventListener('change', () => run({ type: 'set-status', paragraph: p.id, status: select.value }))
  controls.append(select)
  const verb = p.lock ? 'unlock' : 'lock'
  const reason = el('input', {
    'aria-label': `Reason to ${verb} paragraph ${p.label}`,
    placeholder: p.lock ? 'reason to reopen' : 'e.g. agreed ad ref',
    'data-control': `${verb}-reason:${p.id}`
  })
  const act = button(p.lock ? 'Unlock' : 'Lock', () => {
    run({ type: verb, paragraph: p.id, reason: reason.value.trim() || (p.lock ? 'reopened' : 'agreed ad ref') })
  }, { 'data-control': `${verb}:${p.id}` })
  reason.addEventListener('keydown', (e) => { if (e.key === 'Enter') act.click() })
  controls.append(reason, act)
  return controls
}

function amendmentView (a, role, labels) {
  const box = el('div', { class: `amendment${a.stale ? ' stale' : ''}`, role: 'listitem', 'data-amendment': a.id })
  const author = a.sponsors[0] || '?'
  const cosponsors = a.sponsors.slice(1)
  const meta = [
    `Amendment ${a.id}`, a.status, `by ${author}${a.on_behalf_of ? ` on behalf of ${a.on_behalf_of}` : ''}`
  ]
  if (cosponsors.length) meta.push(`co-sponsors: ${cosponsors.join(', ')}`)
  if (a.supporters.length) meta.push(`supported by ${a.supporters.join(', ')}`)
  if (a.opposers.length) meta.push(`opposed by ${a.opposers.join(', ')}`)
  box.append(el('div', { class: 'meta' }, meta.join(' · ')))
  box.append(el('span', { class: 'field-label' }, 'Proposed text'))
  box.append(textView({ kind: 'amendment-text', id: a.id }, a.text_editable, `Proposed text of amendment ${a.id}`))
  box.append(el('span', { class: 'field-label' }, 'Rationale'))
  box.append(textView({ kind: 'amendment-rationale', id: a.id }, a.rationale_editable, `Rationale of amendment ${a.id}`))

  const mission = session && session.mission
  const controls = el('div', { class: 'controls' })
  if (a.status === 'open' && role && role !== 'observer') {
    if (role === 'facilitator') {
      controls.append(
        button('Accept', () => run({ type: 'accept', amendment: a.id }), { 'data-control': `accept:${a.id}` }),
        button('Reject', () => run({ type: 'reject', amendment: a.id }), { 'data-control': `reject:${a.id}` }))
    }
    if (role === 'delegation' && !a.sponsors.includes(mission)) {
      controls.append(
        button('Support', () => run({ type: 'support', amendment: a.id }), { 'data-control': `support:${a.id}` }),
        button('Oppose', () => run({ type: 'oppose', amendment: a.id }), { 'data-control': `oppose:${a.id}` }))
    }
    if (author === mission) {
      const invitee = el('input', { 'aria-label': `Mission to invite as co-sponsor of ${a.id}`, placeholder: 'mission, e.g. CHE', size: '8', 'data-control': `invitee:${a.id}` })
      controls.append(invitee,
        button('Invite co-sponsor', () => invitee.value.trim() && run({ type: 'invite-sponsor', amendment: a.id, mission: invitee.value.trim() }), { 'data-control': `invite:${a.id}` }),
        button('Withdraw', () => run({ type: 'withdraw', amendment: a.id }), { 'data-control': `withdraw:${a.id}` }))
    }
  }
  if (controls.childElementCount) box.append(controls)
  return box
}

function commentForm (p) {
  const input = el('input', { 'aria-label': `Comment on paragraph ${p.label}`, placeholder: 'Comment…', 'data-control': `comment-text:${p.id}` })
  const send = button('Comment', () => {
    const text = input.value.trim()
    if (text) run({ type: 'comment', paragraph: p.id, text })
  }, { 'data-control': `comment:${p.id}` })
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') send.click() })
  return el('div', { class: 'controls' }, input, send)
}

/** A text: an input for who may edit it, plain text for everyone else. */
function textView (target, editable, label) {
  if (!editable) return el('div', { class: 'text', 'data-target': key(target), 'aria-label': label })
  const area = el('textarea', { 'data-target': key(target), 'aria-label': label, rows: '2' })
  area.addEventListener('input', () => {
    fit(area)
    try {
      conn.edit(target, area.value)
    } catch (error) {
      // Put the text back as it is, and say why.
      pending.texts.add(key(target))
      say(`That change cannot be made: ${error.message || error}`)
    }
  })
  return area
}

/** Brings every text on the page up to the model, keeping the caret where the person is. */
function syncTexts (model) {
  const texts = new Map()
  for (const p of model.paragraphs) {
    texts.set(key({ kind: 'body', id: p.id }), p.body)
    for (const a of p.amendments) {
      texts.set(key({ kind: 'amendment-text', id: a.id }), a.text)
      texts.set(key({ kind: 'amendment-rationale', id: a.id }), a.rationale)
    }
  }
  for (const node of document.querySelectorAll('[data-target]')) {
    syncNode(node, texts.get(node.dataset.target))
  }
}

/** Brings one text on the page up to `text`. */
function syncText (targetKey, text) {
  const node = document.querySelector(`[data-target="${targetKey}"]`)
  if (node) syncNode(node, text)
}

function syncNode (node, text) {
  if (text === undefined) return
  if (node.tagName !== 'TEXTAREA') {
    if (node.textContent !== text) node.textContent = text
    return
  }
  if (node.value === text) {
    if (!node.style.height) fit(node)
    return
  }
  if (document.activeElement === node) {
    const [start, end] = [node.selectionStart, node.selectionEnd]
    const shift = (at) => shifted(node.value, text, at)
    node.value = text
    node.setSelectionRange(shift(start), shift(end))
  } else {
    node.value = text
  }
  fit(node)
}

/** Grows a text box to show all of its text. */
function fit (area) {
  area.style.height = 'auto'
  area.style.height = `${area.scrollHeight + 2}px`
}

/** Where a caret at `at` in `before` belongs in `after` (an edit elsewhere moves it). */
function shifted (before, after, at) {
  let prefix = 0
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++
  if (at <= prefix) return at
  return Math.max(prefix, at + after.length - before.length)
}

async function run (command) {
  notice = null
  try {
    const result = await conn.command(command)
    if (result.error) say(`Not done: ${result.error.message}`)
  } catch (error) {
    say(`Not done: ${error.message || error}`)
  }
}

function describe (target) {
  const what = { body: 'paragraph', 'amendment-text': 'amendment', 'amendment-rationale': 'the rationale of amendment' }
  return `${what[target.kind] || target.kind} ${target.id}`
}

function key (target) { return `${target.kind}:${target.id}` }

/** The target a key (`kind:id`) names. */
function targetOf (targetKey) {
  const at = targetKey.indexOf(':')
  return { kind: targetKey.slice(0, at), id: targetKey.slice(at + 1) }
}

function button (text, onClick, attrs = {}) {
  const b = el('button', { type: 'button', ...attrs }, text)
  b.addEventListener('click', onClick)
  return b
}

function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value)
  }
  for (const child of children) {
    if (child === undefined || child === null) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  if (tag === 'textarea' && children.length) node.value = children.join('')
  return node
}
