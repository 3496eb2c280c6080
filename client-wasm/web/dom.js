// Small helpers every part of the page shares: elements built from text (never from HTML, so
// nothing from the document is ever parsed as markup), buttons, text keys, dates.

/** An element with attributes and children (strings become text nodes). */
export function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : value)
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  if (tag === 'textarea' && children.length) node.value = children.flat().join('')
  return node
}

export function button (text, onClick, attrs = {}) {
  const b = el('button', { type: 'button', ...attrs }, text)
  b.addEventListener('click', onClick)
  return b
}

/** A text's key on the page (`body:p3`, `amendment-text:a1`, `cover-note:`). */
export function key (target) { return `${target.kind}:${target.id ?? ''}` }

/** The target a key (`kind:id`) names. */
export function targetOf (targetKey) {
  const at = targetKey.indexOf(':')
  const kind = targetKey.slice(0, at)
  const id = targetKey.slice(at + 1)
  return id ? { kind, id } : { kind }
}

/** Grows a text box to show all of its text (once it is shown: hidden, it has no height). */
export function fit (area) {
  if (!area.isConnected || area.offsetParent === null) return
  area.style.height = 'auto'
  area.style.height = `${area.scrollHeight + 2}px`
}

/** "3 April 2018" (the way UN documents date revisions). */
export function day (ms) {
  return new Date(ms).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' })
}

/** "Rev 1, published 3 April 2018 by UN". */
export function revisionLine (head) {
  return `${head.name}, published ${day(head.published_at_ms)} by ${head.published_by.mission}`
}

/** Calls `fn` once, `ms` after the last call. */
export function debounce (fn, ms) {
  let timer = null
  const debounced = (...args) => {
    clearTimeout(timer)
    timer = setTimeout(() => { timer = null; fn(...args) }, ms)
  }
  debounced.cancel = () => clearTimeout(timer)
  return debounced
}
