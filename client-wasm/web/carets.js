// Remote carets: where each other person is in the text they are editing, drawn over it in
// their mission's colour with the mission's name. This page publishes, with its presence,
// the text the person is in and where the caret is (UTF-16 offsets, as JavaScript strings
// count), at most every 150 ms; presence comes back stamped by the server with who it is.
import { el, key } from './dom.js'
import { missionHue } from './activity.js'

let ctx = null
let sent = null
let timer = null
let drawn = ''

function targetOfKey (k) {
  const at = k.indexOf(':')
  const id = k.slice(at + 1)
  return id ? { kind: k.slice(0, at), id } : { kind: k.slice(0, at) }
}

/** `context`: `{conn}`. */
export function initCarets (context) {
  ctx = context
  const publish = () => {
    timer = null
    const node = document.activeElement
    const inText = node && node.tagName === 'TEXTAREA' && node.dataset.target
    const target = inText ? JSON.stringify(targetOfKey(node.dataset.target)) : 'null'
    const caret = inText ? node.selectionStart : -1
    const now = `${target}@${caret}`
    if (now === sent) return
    sent = now
    const client = ctx.conn.client
    if (!client || typeof client.setFocusAt !== 'function') return
    client.setFocusAt(target, caret)
    ctx.conn.pump()
  }
  const soon = () => { if (!timer) timer = setTimeout(publish, 150) }
  for (const type of ['selectionchange', 'input', 'focusin', 'focusout', 'keyup', 'mouseup']) {
    document.addEventListener(type, soon)
  }
  window.addEventListener('resize', () => { drawn = ''; ctx.redraw() })
}

/** Where offset `at` of `node`'s text is on the page, through a mirror with the same layout. */
function caretPoint (node, at) {
  const style = getComputedStyle(node)
  const mirror = el('div', {})
  for (const p of ['fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'letterSpacing', 'lineHeight',
    'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft', 'borderTopWidth', 'borderRightWidth',
    'borderBottomWidth', 'borderLeftWidth', 'boxSizing', 'textIndent', 'wordSpacing', 'tabSize']) {
    mirror.style[p] = style[p]
  }
  Object.assign(mirror.style, {
    position: 'absolute', visibility: 'hidden', top: '0', left: '-9999px',
    whiteSpace: 'pre-wrap', overflowWrap: 'break-word', width: `${node.clientWidth + (parseFloat(style.borderLeftWidth) || 0) + (parseFloat(style.borderRightWidth) || 0)}px`
  })
  const text = node.tagName === 'TEXTAREA' ? node.value : node.textContent
  const mark = el('span', {}, '\u200b')
  mirror.append(text.slice(0, Math.min(at, text.length)), mark)
  document.body.append(mirror)
  const box = node.getBoundingClientRect()
  const point = {
    left: box.left + window.scrollX + mark.offsetLeft - (node.scrollLeft || 0),
    top: box.top + window.scrollY + mark.offsetTop - (node.scrollTop || 0),
    height: mark.offsetHeight || parseFloat(style.lineHeight) || 16
  }
  mirror.remove()
  return point
}

/** Every render: the others' carets, redrawn when where they are changed. */
export function updateCarets (status) {
  const others = status.presence.filter((p) => p && p.mission && p.focus && p.focus.kind && Number.isInteger(p.caret))
  const shape = JSON.stringify(others.map((p) => [p.mission, p.person, key(p.focus), p.caret])) +
    (others.length ? document.documentElement.scrollHeight : '')
  if (shape === drawn) return
  drawn = shape
  let layer = document.getElementById('carets')
  if (!layer) {
    layer = el('div', { id: 'carets', 'aria-hidden': 'true' })
    document.body.append(layer)
  }
  const marks = []
  for (const p of others) {
    const node = document.querySelector(`[data-target="${CSS.escape(key(p.focus))}"]`)
    if (!node || !node.isConnected || node.offsetParent === null) continue
    const at = caretPoint(node, p.caret)
    marks.push(el('span', {
      class: 'caret', 'data-caret': p.mission, 'data-caret-target': key(p.focus),
      style: `--who: ${missionHue(p.mission)}; left: ${at.left}px; top: ${at.top}px; height: ${at.height}px`
    }, el('span', { class: 'caret-name' }, p.mission)))
  }
  layer.replaceChildren(...marks)
}
