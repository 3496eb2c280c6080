// The page delegates use: sign in, read the text, type where they may, act through commands.
// It renders what the wasm client models and never decides on its own what may be edited.
// The revisions (the heading, comparisons), the facilitators' panel for the next one, the
// amendments' redlines, exports and printing, and the negotiation's process (programme,
// reading, notices, silence procedures, progress, the theme filter) are in their own modules;
// this file renders the text and routes events. Finding one's way (outline, go to, search,
// filters), feedback at the paragraph, the propose form and others' activity are modules too.
import { load, Connection } from './concord.js'
import { checkSession, showSignIn, hideSignIn } from './signin.js'
import { el, button, key, targetOf, revisionLine } from './dom.js'
import { initTexts, textView, syncTexts, syncText } from './texts.js'
import { initRevisions, updateRevisions, showCompare, liveChanged, publishedReader, readRevision } from './revisions.js'
import { initPrepare, showPrepare, updatePrepare, afterRender, draftChanged } from './prepare.js'
import { initAmendments, redlineSlot, decisionControls, reopenControls, refreshRedlines } from './amendments.js'
import { decisionLine, sponsorshipControls } from './sponsorship.js'
import { commentThread } from './comments.js'
import { initExports } from './exports.js'
import { initProcess, updateProcess, pollProcess, readingShape, discussControl } from './process.js'
import { initRounds } from './rounds.js'
import { initNotices } from './notices.js'
import { initSilence } from './silence.js'
import { initProgress, progressChanged } from './progress.js'
import { initThemes, updateThemes } from './themes.js'
import { initStatus, statusName, facilitatorControls } from './status.js'
import { initNav, updateOutline, afterRebuild, goToParagraph } from './nav.js'
import { initSearch, searchChanged, afterRebuildSearch } from './search.js'
import { initFilters, updateFilters, apply as applyFilters, clearFilter } from './filters.js'
import * as feedback from './feedback.js'
import { initPropose, proposeControl, openPropose } from './propose.js'
import { initActivity, remoteTexts, updateActivity } from './activity.js'
import { initCarets, updateCarets } from './carets.js'

const $ = (id) => document.getElementById(id)

let conn = null
let session = null
let lastShape = null
// Each paragraph's shape as last drawn (see `shapeOf`).
let lastParagraphs = null
let lastConnection = null
let notice = null
let lastModel = null
let view = 'text'
// After close 4001 (what this page reads was replaced): the revision read before.
let readAgain = null
// What the next frame must bring up to date: everything, or only some texts.
const pending = { full: true, texts: new Set(), queued: false }

main()

async function main () {
  const params = new URLSearchParams(location.hash.slice(1))
  const doc = params.get('doc') || 'gcm'
  // The sign-in link's token moves out of the address at once (into this tab's session
  // storage, which a reload keeps): an address copied to share a paragraph carries no token,
  // and none stays in the browser's history.
  const token = takeToken(doc)
  if (!token) return showSignIn({ doc })
  // Before any socket: is this link good for this document?
  const checked = await checkSession(doc, token)
  if (!checked.ok && !checked.network) return showSignIn({ doc, reason: checked.reason })
  await load()
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://'
  conn = new Connection({ server: scheme + location.host, doc, token, onChange: onChange })
  // A socket that closes before it opened: the server says whether the token is the reason.
  conn.checkToken = async () => {
    const again = await checkSession(doc, conn.token)
    return !again.ok && !again.network ? again : null
  }
  // A new link opened in this tab, for the same document: carry on with it, keeping what was
  // typed.
  window.addEventListener('hashchange', () => {
    const next = new URLSearchParams(location.hash.slice(1))
    if ((next.get('doc') || 'gcm') !== doc) return location.reload()
    const newToken = next.get('token') ? takeToken(doc) : null
    if (newToken && newToken !== conn.token) signInAgain(doc, newToken)
  })
  // For scripts and tests: the page's client.
  window.concord = conn
  document.title = `${doc} · Concord`
  const context = {
    conn,
    say,
    run,
    textView,
    syncText,
    role: () => session && session.role,
    published: () => !!lastModel && publishedReader(lastModel.revisions),
    view: () => view,
    model: () => lastModel,
    readRevision: (id) => { readRevision(id); showView('compare') },
    listed: () => { pending.full = true; queueRender() }
  }
  initTexts({ conn, say, putBack: (target) => { pending.texts.add(target); queueRender() } })
  initRevisions(context)
  initPrepare(context)
  initAmendments(context)
  initExports(context)
  initProcess(context)
  initRounds(context)
  initNotices(context)
  initSilence(context)
  initProgress(context)
  initThemes()
  initStatus({ run, say, redraw: () => { lastShape = null; pending.full = true; queueRender() }, lockedHere: feedback.lockedHere })
  const mission = () => session && session.mission
  initNav({
    model: () => lastModel,
    reveal: () => {
      clearFilter()
      if ($('theme-filter').value) { $('theme-filter').value = ''; $('theme-filter').dispatchEvent(new Event('change')) }
    }
  })
  initSearch({ model: () => lastModel })
  initFilters({ conn, model: () => lastModel, mission })
  feedback.initFeedback({ conn, say, model: () => lastModel, propose: (paragraph, text) => openPropose(paragraph, text) })
  initPropose({ conn, say, model: () => lastModel, note: feedback.note })
  initActivity({ conn, model: () => lastModel })
  initCarets({ conn, redraw: () => queueRender() })
  for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => showView(b.dataset.view))
  $('doc-heading').hidden = false
  conn.start()
  queueRender()
  // The expiry warning depends on the clock alone; observers of published revisions only ask
  // for the process.
  setInterval(() => { queueRender(); pollProcess() }, 30000)
}

/** The token for `doc`: the address's (taken out of it and kept for this tab), else the one
 *  this tab kept. */
function takeToken (doc) {
  const params = new URLSearchParams(location.hash.slice(1))
  const key = `concord.token.${doc}`
  const given = params.get('token')
  if (given) {
    try { sessionStorage.setItem(key, given) } catch {}
    params.delete('token')
    history.replaceState(null, '', `#${params.toString()}`)
    return given
  }
  try { return sessionStorage.getItem(key) } catch { return null }
}

/** A new token for this document: checked, then used in place, or the form again. */
async function signInAgain (doc, token) {
  const checked = await checkSession(doc, token)
  if (!checked.ok && !checked.network) {
    return showSignIn({ doc, reason: checked.reason, onToken: (t) => signInAgain(doc, t) })
  }
  hideSignIn()
  conn.useToken(token)
}

/** Shows one of the views: the text, the comparison, the facilitators' panel. */
function showView (name) {
  view = name
  for (const b of document.querySelectorAll('[data-view]')) b.setAttribute('aria-pressed', String(b.dataset.view === name))
  $('document').hidden = name !== 'text'
  $('compare').hidden = name !== 'compare'
  $('prepare').hidden = name !== 'prepare'
  $('process').classList.toggle('elsewhere', name !== 'text')
  $('now').classList.toggle('elsewhere', name !== 'text')
  document.body.classList.toggle('wide', name === 'compare')
  showCompare(name === 'compare')
  showPrepare(name === 'prepare')
  pending.full = true
  queueRender()
}

function onChange (events) {
  for (const event of events) {
    if (event.type === 'texts') {
      // Someone typed: only these texts changed.
      for (const target of event.targets) pending.texts.add(key(target))
      remoteTexts(event.targets)
      searchChanged()
      liveChanged()
      draftChanged()
    } else if (event.type === 'signed-out') {
      // The server refused the token: say why, and take a new one without losing anything.
      const doc = conn.doc
      showSignIn({ doc, reason: event.reason, onToken: (t) => signInAgain(doc, t) })
    } else if (event.type === 'socket-closed') {
      if (event.code === 4001) {
        const latest = lastModel && lastModel.revisions.latest
        readAgain = { before: latest ? latest.id : null, loaded: false }
      }
    } else if (event.type === 'status' || event.type === 'presence' || event.type === 'command-result') {
      // The header is redrawn with every frame anyway.
    } else {
      if (event.type === 'rejected') {
        say(`Your last change was not accepted: ${event.message}. Anything that cannot be applied is kept at its paragraph for you to copy.`)
        feedback.rejected(event)
      }
      pending.full = true
      liveChanged()
      draftChanged()
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
    feedback.connectionChanged(status.connection)
  }
  if (pending.full) {
    const model = conn.model()
    const typingIn = document.activeElement && document.activeElement.closest && document.activeElement.closest('#document > article')
    feedback.modelChanged(lastModel, model, typingIn && typingIn.dataset.paragraph)
    lastModel = model
    // What changed decides what is redrawn: the whole text when its order or the page's
    // situation changed, else only the paragraphs whose own shape changed (a lock, an
    // amendment, a comment touches one paragraph of hundreds).
    const shape = shapeOf(model, status)
    const whole = JSON.stringify(shape.page)
    if (whole !== lastShape || !lastParagraphs) {
      lastShape = whole
      lastParagraphs = shape.paragraphs
      rebuild(model, typingIn && typingIn.dataset.paragraph)
      afterRebuild(model)
      afterRebuildSearch()
      updateActivity(status, true)
    } else {
      const changed = model.paragraphs.filter((p) => shape.paragraphs.get(p.id) !== lastParagraphs.get(p.id))
      lastParagraphs = shape.paragraphs
      if (changed.length) {
        patch(model, changed, typingIn && typingIn.dataset.paragraph)
        afterRebuild(model, changed.map((p) => p.id))
        afterRebuildSearch()
        updateActivity(status, true)
      }
    }
    updateOutline(model)
    updateFilters(model)
    searchChanged()
    updatePrepare(model)
    syncTexts(model)
    updateRevisions(model)
    updateThemes(model)
    updateProcess(model)
    progressChanged()
    renderReadAgain(status, model)
    const facilitator = session && session.role === 'facilitator' && !publishedReader(model.revisions)
    document.querySelector('[data-view="prepare"]').hidden = !facilitator
    if (!facilitator && view === 'prepare') showView('text')
  } else {
    for (const target of pending.texts) syncText(target, conn.text(targetOf(target)))
  }
  pending.full = false
  pending.texts.clear()
  feedback.updateFeedback(status)
  updateActivity(status)
  updateCarets(status)
  afterRender()
  refreshRedlines()
}

/** After close 4001: say that a new revision was published, then which one is shown. */
function renderReadAgain (status, model) {
  const box = $('read-again')
  if (!readAgain) return
  box.hidden = false
  if (status.connection !== 'synced' || readAgain.loaded) {
    if (!readAgain.loaded) {
      box.dataset.state = 'loading'
      box.replaceChildren('A new revision was published. Loading it…')
    }
    return
  }
  readAgain.loaded = true
  box.dataset.state = 'loaded'
  const latest = model.revisions.latest
  const text = latest && latest.id !== readAgain.before
    ? `A new revision was published: you are now reading ${revisionLine(latest)}.`
    : 'What you read here changed on the server; the page now shows it.'
  box.replaceChildren(el('span', {}, text), ' ',
    button('Dismiss', () => { readAgain = null; box.hidden = true; box.replaceChildren() }, { 'data-control': 'dismiss-read-again' }))
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
  // Observers save nothing: they are told they read the live text, not that it is saved.
  if (session && session.role === 'observer' && (state === 'saved' || state === 'unsaved')) {
    [text, tone] = ['Reading the live text', 'ok']
  }
  calmSaved(saved, text, state, tone)

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

// The save status, calmly: "Saving…" only once a change has waited a moment (not at every
// keystroke); "All changes saved" said once, when the typing has paused for a while after the
// last save (not after each acknowledged keystroke); problems are shown and said at once.
const calm = { shown: null, timer: null, sayTimer: null, typed: false, problem: false, announced: null }
const SAVING_AFTER_MS = 1000
const SAY_SAVED_AFTER_MS = 1500
function announce (say) {
  if (say === calm.announced) return
  calm.announced = say
  if (say) $('saved-announce').textContent = say
}
function calmSaved (saved, text, state, tone) {
  saved.dataset.state = state
  const key = `${state}:${text}`
  if (calm.shown === key) return
  calm.shown = key
  const observer = session && session.role === 'observer'
  const show = () => {
    calm.timer = null
    saved.dataset.shownState = state
    saved.textContent = text
    saved.className = `saved ${tone}`
  }
  clearTimeout(calm.timer)
  clearTimeout(calm.sayTimer)
  if (state === 'unsaved') {
    // Something was typed: "saved" is worth saying again, once the typing pauses.
    calm.typed = !observer
    calm.timer = setTimeout(show, SAVING_AFTER_MS)
    return
  }
  if (state === 'saved') {
    // "Saving…" on screen stays a moment, so the indicator does not flicker.
    if (saved.dataset.shownState === 'unsaved') calm.timer = setTimeout(show, SAVING_AFTER_MS)
    else show()
    // Back from a problem that was said: that it is over is said at once.
    if (calm.problem) {
      calm.problem = false
      announce(text)
    } else if (calm.typed) {
      calm.sayTimer = setTimeout(() => {
        calm.typed = false
        calm.announced = null
        announce('All changes saved')
      }, SAY_SAVED_AFTER_MS)
    }
    return
  }
  show()
  // Before the first sync ("Connecting…") nothing was wrong yet.
  calm.problem = calm.problem || calm.announced !== null || state !== 'connecting'
  announce(text)
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
      button('Show at its paragraph', () => goToParagraph(feedback.paragraphOf(item.target))),
      button('Dismiss', () => conn.dismissRecoverable(index))
    )
    return box
  })
  section.replaceChildren(heading, intro, ...list)
}

/** What, when it changes, needs the document's elements rebuilt (texts are synced apart). */
/** What the text's DOM depends on: the page's situation and order (`page`: any change
 *  redraws everything), and each paragraph's own shape (a change redraws that paragraph). */
function shapeOf (model, status) {
  const paragraphs = new Map(model.paragraphs.map((p) => [p.id, JSON.stringify([
    p.label, p.kind, p.status, !!p.lock, p.lock && p.lock.reason, p.editable,
    p.comments.map((c) => [c.id, !!c.resolved]),
    p.amendments.map((a) => [a.id, a.status, a.sponsors, a.supporters, a.opposers, a.on_behalf_of,
      a.text_editable, a.rationale_editable, a.stale, a.invited, a.decision && a.decision.at_ms, a.moved_on])
  ])]))
  return {
    page: {
      role: session && session.role,
      observers: model.revisions.observers,
      connection: status.connection === 'closed',
      reading: readingShape(model),
      missions: model.missions,
      order: model.paragraphs.map((p) => p.id)
    },
    paragraphs
  }
}

/** Redraws these paragraphs in place, keeping the focus and selection of the person. */
function patch (model, changed, typingIn) {
  keepingFocus(typingIn, () => {
    const role = session && session.role
    const labels = new Map(model.paragraphs.map((p) => [p.id, p.label]))
    for (const p of changed) {
      const old = document.querySelector(`#document > [data-paragraph="${CSS.escape(p.id)}"], #document > [data-heading="${CSS.escape(p.id)}"]`)
      const fresh = p.kind === 'heading'
        ? el('h2', { 'data-target': key({ kind: 'body', id: p.id }), 'data-heading': p.id }, p.body)
        : paragraphView(p, role, labels)
      if (old) old.replaceWith(fresh)
    }
  })
}

/** Runs `redraw` and puts the focus (and a text's selection) back where the person had it. */
function keepingFocus (typingIn, redraw) {
  const focused = document.activeElement
  const focusKey = focused && focused.dataset && (focused.dataset.target || focused.dataset.control)
  const focusedArticle = focused && focused.matches && focused.matches('#document > article') ? focused.dataset.paragraph : null
  const selection = focused && 'selectionStart' in focused ? [focused.selectionStart, focused.selectionEnd] : null
  redraw()
  if (document.activeElement === focused && focused.isConnected) return
  const article = (id) => document.querySelector(`#document > [data-paragraph="${CSS.escape(id)}"]`)
  if (focusKey) {
    const again = document.querySelector(`[data-target="${focusKey}"], [data-control="${focusKey}"]`)
    if (again) {
      again.focus()
      if (selection && 'selectionStart' in again) again.setSelectionRange(...selection)
    }
    // The text typed into turned read-only (a lock): the focus stays at its paragraph.
    if (document.activeElement !== again && typingIn) article(typingIn)?.focus({ preventScroll: true })
  } else if (focusedArticle) {
    article(focusedArticle)?.focus({ preventScroll: true })
  }
}

function rebuild (model, typingIn) {
  keepingFocus(typingIn, () => {
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
  })
}

function paragraphView (p, role, labels) {
  const article = el('article', {
    class: `paragraph ${p.kind}${p.lock ? ' locked' : ''}`,
    'data-paragraph': p.id,
    'aria-label': `Paragraph ${p.label}`,
    tabindex: '-1'
  })
  const head = el('div', { class: 'head' },
    el('span', { class: 'label' }, p.label),
    el('span', { class: `badge ${p.status}`, 'data-status': p.status }, statusName(p)))
  if (p.lock) {
    head.append(el('span', { class: 'lockmark', 'data-locked': p.id, title: `Locked by ${p.lock.mission}` },
      `Locked: ${p.lock.reason}`))
  }
  article.append(head, feedback.feedbackSlot(p))
  article.append(textView({ kind: 'body', id: p.id }, p.editable, `Text of paragraph ${p.label}`))

  if (role === 'facilitator') article.append(facilitatorControls(p))
  const discuss = discussControl(p)
  if (discuss) head.append(discuss)
  if (role && role !== 'observer' && !p.lock && p.status !== 'deleted') {
    article.append(proposeControl(p))
  }
  if (p.amendments.length) {
    const list = el('div', { class: 'amendments', role: 'list', 'aria-label': `Amendments to paragraph ${p.label}` })
    for (const a of p.amendments) list.append(amendmentView(a, role, labels, !!p.lock))
    article.append(list)
  }
  article.append(...commentThread(p, role, session && session.mission, run))
  return article
}

function amendmentView (a, role, labels, locked) {
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
  const label = labels.get(a.paragraph) || a.paragraph
  const text = textView({ kind: 'amendment-text', id: a.id }, a.text_editable, `Proposed text of amendment ${a.id}`)
  if (publishedReader(lastModel.revisions) || a.status !== 'open') {
    box.append(el('span', { class: 'field-label' }, 'Proposed text'), text)
  } else {
    // The change it makes to the paragraph, then the whole text (to edit, or folded away).
    box.append(redlineSlot(a))
    box.append(a.text_editable
      ? el('span', { class: 'field-label' }, 'Proposed text (edit here)')
      : el('details', { class: 'full-text' }, el('summary', {}, 'Full proposed text'), text))
    if (a.text_editable) box.append(text)
  }
  box.append(el('span', { class: 'field-label' }, 'Rationale'))
  box.append(textView({ kind: 'amendment-rationale', id: a.id }, a.rationale_editable, `Rationale of amendment ${a.id}`))

  const mission = session && session.mission
  const decided = decisionLine(a)
  if (decided) box.append(decided)
  const controls = el('div', { class: 'controls' })
  if (a.status === 'open' && role && role !== 'observer') {
    if (role === 'facilitator') {
      controls.append(...decisionControls(a, label, run, locked))
    }
    if (role === 'delegation' && !a.sponsors.includes(mission) && !(a.invited || []).includes(mission)) {
      controls.append(
        button('Support', () => run({ type: 'support', amendment: a.id }), { 'data-control': `support:${a.id}` }),
        button('Oppose', () => run({ type: 'oppose', amendment: a.id }), { 'data-control': `oppose:${a.id}` }))
    }
    if (role === 'delegation') controls.append(...sponsorshipControls(a, mission, lastModel.missions || [], run))
    if (author === mission) {
      controls.append(button('Withdraw', () => run({ type: 'withdraw', amendment: a.id }), { 'data-control': `withdraw:${a.id}` }))
    }
  }
  if (a.status === 'rejected' && role === 'facilitator') controls.append(...reopenControls(a, run))
  if (controls.childElementCount) box.append(controls)
  return box
}

/** Sends a command; says why at its paragraph if it is refused; offline, it waits there for
 *  the connection. Resolves to whether it was done. */
function run (command) {
  notice = null
  return feedback.run(command)
}

function describe (target) {
  if (target.kind === 'cover-note') return 'the cover letter of the next revision'
  const what = { body: 'paragraph', 'amendment-text': 'amendment', 'amendment-rationale': 'the rationale of amendment' }
  return `${what[target.kind] || target.kind} ${target.id}`
}
