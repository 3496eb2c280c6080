// The Markdown of cover letters, as DOM nodes built from text: paragraphs (a single line break
// stays a line break, as in a letter), headings, bulleted and numbered lists, **bold**,
// *italic* and `code`. Nothing is ever parsed as HTML: a `<script>` in a letter reads as text.
import { el } from './dom.js'

const BULLET = /^\s*[-*+]\s+(.*)$/
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/
const HEADING = /^(#{1,3})\s+(.*?)\s*#*\s*$/

/** `markdown` as a list of block elements. */
export function renderMarkdown (markdown) {
  const blocks = []
  let paragraph = null
  let list = null
  const close = () => { paragraph = null; list = null }
  for (const line of String(markdown || '').replace(/\r\n?/g, '\n').split('\n')) {
    if (!line.trim()) { close(); continue }
    const heading = HEADING.exec(line)
    const bullet = BULLET.exec(line)
    const numbered = NUMBERED.exec(line)
    if (heading) {
      close()
      // Below the page's own headings: a letter's "#" is a section of the letter.
      blocks.push(el(`h${heading[1].length + 3}`, {}, inline(heading[2])))
    } else if (bullet || numbered) {
      const tag = bullet ? 'ul' : 'ol'
      if (!list || list.tagName.toLowerCase() !== tag) {
        paragraph = null
        list = el(tag, numbered && numbered[1] !== '1' ? { start: numbered[1] } : {})
        blocks.push(list)
      }
      list.append(el('li', {}, inline(bullet ? bullet[1] : numbered[2])))
    } else if (list && /^\s+/.test(line) && list.lastElementChild) {
      // An indented line continues the list item.
      list.lastElementChild.append(' ', ...inline(line.trim()))
    } else {
      list = null
      if (paragraph) {
        paragraph.append(el('br'), ...inline(line))
      } else {
        paragraph = el('p', {}, inline(line))
        blocks.push(paragraph)
      }
    }
  }
  return blocks
}

// Bold (** or __), italic (* or _, not inside a word), code.
const INLINE = /(\*\*|__)(?=\S)([\s\S]*?\S)\1|(?<![\w*])(\*|_)(?=[^\s*_])([\s\S]*?[^\s*_])\3(?![\w*])|`([^`]+)`/g

/** Inline Markdown as nodes. */
function inline (text) {
  const nodes = []
  let at = 0
  const pattern = new RegExp(INLINE.source, 'g')
  let match
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)))
    if (match[1]) nodes.push(el('strong', {}, inline(match[2])))
    else if (match[3]) nodes.push(el('em', {}, inline(match[4])))
    else nodes.push(el('code', {}, match[5]))
    at = match.index + match[0].length
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)))
  return nodes
}
