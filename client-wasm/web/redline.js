// Redlines: a word diff's pieces (`{op: "equal" | "insert" | "delete", text, by?}`) as
// semantic HTML. Insertions are `<ins>` with the mission that wrote them (a tooltip, a small
// visible label, and words for screen readers: "inserted by EU"), deletions `<del>`.
import { el } from './dom.js'

/** Who wrote an inserted stretch, in words: "EU", "MEX on behalf of G77", or null. */
export function author (by) {
  if (!by || !by.mission) return null
  return by.on_behalf_of ? `${by.mission} on behalf of ${by.on_behalf_of}` : by.mission
}

/** One inserted stretch; `by` is its credit (`{mission, amendment?, on_behalf_of?}`) if known. */
function insertion (text, by) {
  const who = author(by)
  const title = who
    ? `Inserted by ${who}${by.amendment ? ` (amendment ${by.amendment})` : ''}`
    : 'Inserted'
  const ins = el('ins', {
    title,
    'data-mission': by ? (by.mission || '') : undefined,
    'data-amendment': by && by.amendment
  },
  el('span', { class: 'sr-only' }, who ? `inserted by ${who}: ` : 'inserted: '),
  el('span', { class: 'words' }, text))
  if (who) {
    ins.append(el('small', { class: 'by', 'aria-hidden': 'true' },
      by.on_behalf_of ? `${by.mission} for ${by.on_behalf_of}` : by.mission))
  }
  ins.append(el('span', { class: 'sr-only' }, ' (end of insertion)'))
  return ins
}

function deletion (text) {
  return el('del', { title: 'Deleted' },
    el('span', { class: 'sr-only' }, 'deleted: '),
    el('span', { class: 'words' }, text),
    el('span', { class: 'sr-only' }, ' (end of deletion)'))
}

/**
 * The pieces as nodes. `side`: `both` (one redline, deletions and insertions inline), `old`
 * (the text before, deletions marked) or `new` (the text after, insertions marked).
 */
export function redline (pieces, side = 'both') {
  const nodes = []
  for (const piece of pieces || []) {
    if (piece.op === 'equal') {
      nodes.push(document.createTextNode(piece.text))
    } else if (piece.op === 'delete') {
      if (side !== 'new') nodes.push(deletion(piece.text))
    } else if (piece.op === 'insert' && side !== 'old') {
      if (piece.by && piece.by.length) {
        for (const stretch of piece.by) nodes.push(insertion(stretch.text, stretch))
      } else {
        nodes.push(insertion(piece.text, null))
      }
    }
  }
  return nodes
}

/** Whether a diff changes anything. */
export function changes (pieces) {
  return (pieces || []).some((p) => p.op !== 'equal' && p.text)
}
