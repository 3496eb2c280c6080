// A paragraph's comments: each with who and when, replies under the comment they answer,
// resolved ones folded with who resolved them; a reply or resolve control for those who may
// (resolving: the comment's mission or a facilitator; the server decides either way).
import { el, button } from './dom.js'

const when = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** The thread (or nothing) and the form to add to it. */
export function commentThread (p, role, mission, run) {
  const parts = []
  const participant = role && role !== 'observer'
  if (p.comments.length) {
    const ul = el('ul', { class: 'comments', 'aria-label': `Comments on paragraph ${p.label}` })
    const byId = new Map(p.comments.map((c) => [c.id, c]))
    for (const c of p.comments) {
      const li = el('li', { 'data-comment': `${p.id}/${c.id}`, class: c.resolved ? 'resolved' : '' })
      const answered = c.reply_to && byId.get(c.reply_to)
      if (answered) li.append(el('span', { class: 'reply-to' }, `↳ to ${answered.mission}: `))
      li.append(el('span', {}, `${c.mission} (${c.person}), ${when(c.at_ms)}: ${c.text}`))
      if (c.resolved) {
        li.append(el('span', { class: 'resolved-by' }, ` — resolved by ${c.resolved.mission}, ${when(c.resolved.at_ms)}`))
      } else if (participant) {
        li.append(' ', button('Reply', () => replyForm(li, p, c, run), { class: 'small', 'data-control': `reply:${p.id}/${c.id}` }))
        if (c.mission === mission || role === 'facilitator') {
          li.append(' ', button('Resolve', () => run({ type: 'resolve-comment', paragraph: p.id, comment: c.id }), { class: 'small', 'data-control': `resolve:${p.id}/${c.id}` }))
        }
      }
      ul.append(li)
    }
    parts.push(ul)
  }
  if (participant) parts.push(commentForm(p, null, run))
  return parts
}

function replyForm (li, p, c, run) {
  if (li.querySelector('[data-reply-form]')) return
  const form = commentForm(p, c, run)
  form.setAttribute('data-reply-form', '')
  li.append(form)
  form.querySelector('input').focus()
}

function commentForm (p, replyTo, run) {
  const label = replyTo ? `Reply to ${replyTo.mission} on paragraph ${p.label}` : `Comment on paragraph ${p.label}`
  const control = replyTo ? `reply-text:${p.id}/${replyTo.id}` : `comment-text:${p.id}`
  const input = el('input', { 'aria-label': label, placeholder: replyTo ? 'Reply…' : 'Comment…', 'data-control': control })
  const send = button(replyTo ? 'Send reply' : 'Comment', () => {
    const text = input.value.trim()
    if (!text) return
    const command = { type: 'comment', paragraph: p.id, text }
    if (replyTo) command.reply_to = replyTo.id
    run(command)
  }, { 'data-control': replyTo ? `send-reply:${p.id}/${replyTo.id}` : `comment:${p.id}` })
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') send.click() })
  return el('div', { class: 'controls' }, input, send)
}
