// The texts on the page: an input bound to each text this person may type into (what they
// type goes to the wasm client as an edit), plain text for the others, and bringing them up to
// the model without moving the caret of whoever is typing.
import { el, key, fit } from './dom.js'

let ctx = null

/** `context`: `{conn, say, putBack(key)}` (putBack: show the model's text again). */
export function initTexts (context) {
  ctx = context
}

/** A text: an input for who may edit it, plain text for everyone else. */
export function textView (target, editable, label) {
  if (!editable) return el('div', { class: 'text', role: 'group', 'data-target': key(target), 'aria-label': label })
  const area = el('textarea', { 'data-target': key(target), 'aria-label': label, rows: '2' })
  area.addEventListener('input', () => {
    fit(area)
    try {
      ctx.conn.edit(target, area.value)
    } catch (error) {
      // Put the text back as it is, and say why.
      ctx.putBack(key(target))
      ctx.say(`That change cannot be made: ${error.message || error}`)
    }
  })
  return area
}

/** Brings every text on the page up to the model, keeping the caret where the person is. */
export function syncTexts (model) {
  const texts = new Map()
  if (model.revisions.cover_note !== null) texts.set(key({ kind: 'cover-note' }), model.revisions.cover_note)
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
export function syncText (targetKey, text) {
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

/** Where a caret at `at` in `before` belongs in `after` (an edit elsewhere moves it). */
function shifted (before, after, at) {
  let prefix = 0
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++
  if (at <= prefix) return at
  return Math.max(prefix, at + after.length - before.length)
}
