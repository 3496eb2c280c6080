// Others at work, made visible: a text someone else just changed is highlighted for a moment
// in the colour of the mission typing there (from presence: each entry carries the mission the
// server stamped and the text that person is in), and each paragraph says who is editing in it
// ("EU is editing amendment a1"). This page publishes which text the person is in.
import { el, key } from './dom.js'

const FLASH_MS = 2500

let ctx = null
let editingFor = ''

/** `context`: `{conn, model(), session()}`. */
export function initActivity (context) {
  // Which text the person is in, and where the caret is, is published by `carets.js`.
  ctx = context
}

function targetOfKey (k) {
  const at = k.indexOf(':')
  const id = k.slice(at + 1)
  return id ? { kind: k.slice(0, at), id } : { kind: k.slice(0, at) }
}

/** A colour per mission (the same on every page). */
export function missionHue (mission) {
  let h = 0
  for (const c of mission || '') h = (h * 31 + c.charCodeAt(0)) % 360
  return h
}

/** Who is in which text now, from presence. */
function editors (status) {
  const byTarget = new Map()
  for (const p of status.presence) {
    if (!p || !p.mission || !p.focus || !p.focus.kind) continue
    const k = key(p.focus)
    if (!byTarget.has(k)) byTarget.set(k, [])
    byTarget.get(k).push(p)
  }
  return byTarget
}

/** Someone typed: the texts they changed flash in their mission's colour. */
export function remoteTexts (targets) {
  const who = editors(ctx.conn.status())
  for (const target of targets) {
    const k = key(target)
    const node = document.querySelector(`[data-target="${CSS.escape(k)}"]`)
    if (!node) continue
    const mission = (who.get(k) || [])[0]?.mission || ''
    node.style.setProperty('--who', String(missionHue(mission)))
    node.classList.remove('remote-edit')
    void node.offsetWidth
    node.classList.add('remote-edit')
    if (mission) node.dataset.editedBy = mission
    clearTimeout(node.flashTimer)
    node.flashTimer = setTimeout(() => { node.classList.remove('remote-edit'); delete node.dataset.editedBy }, FLASH_MS)
  }
}

/** Every render: "EU is editing …" at each paragraph someone else is in. */
export function updateActivity (status, force) {
  const who = editors(status)
  const shape = JSON.stringify([...who.entries()].map(([k, list]) => [k, list.map((p) => p.mission)]))
  if (shape === editingFor && !force) return
  editingFor = shape
  const model = ctx.model()
  if (!model) return
  const byAmendment = new Map(model.paragraphs.flatMap((p) => p.amendments.map((a) => [a.id, p.id])))
  const atParagraph = new Map()
  for (const [k, list] of who) {
    const target = targetOfKey(k)
    const paragraph = target.kind === 'body' ? target.id : byAmendment.get(target.id)
    if (!paragraph) continue
    const what = target.kind === 'body' ? 'the paragraph'
      : target.kind === 'amendment-text' ? `amendment ${target.id}` : `the rationale of ${target.id}`
    for (const p of list) {
      if (!atParagraph.has(paragraph)) atParagraph.set(paragraph, new Map())
      const missions = atParagraph.get(paragraph)
      if (!missions.has(p.mission)) missions.set(p.mission, new Set())
      missions.get(p.mission).add(what)
    }
  }
  for (const node of document.querySelectorAll('[data-editing]')) node.remove()
  for (const [paragraph, missions] of atParagraph) {
    const head = document.querySelector(`#document > [data-paragraph="${CSS.escape(paragraph)}"] .head`)
    if (!head) continue
    for (const [mission, whats] of missions) {
      head.append(el('span', {
        class: 'editing', 'data-editing': mission, style: `--who: ${missionHue(mission)}`
      }, `${mission} is editing ${[...whats].join(', ')}`))
    }
  }
}
