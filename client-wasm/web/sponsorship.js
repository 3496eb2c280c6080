// Co-sponsorship that asks, and who decided what: an author invites co-sponsors from the
// missions that joined the document (a list, not free text); the invitation waits for the
// invited mission, which accepts or declines it; a co-sponsor may withdraw its name; an
// amendment's last decision (accepted, rejected, withdrawn, reopened) says who, when and why.
import { el, button } from './dom.js'

/** "Rejected by UN (chair), 3 April 2018, 10:00: outside the mandate". */
export function decisionLine (a) {
  const d = a.decision
  if (!d) return null
  const when = new Date(d.at_ms).toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' })
  const verb = { accepted: 'Accepted', rejected: 'Rejected', withdrawn: 'Withdrawn', open: 'Reopened' }[d.status] || 'Decided'
  return el('p', { class: 'decision', 'data-decision': a.id },
    `${verb} by ${d.mission} (${d.person}), ${when}${d.reason ? `: ${d.reason}` : ''}`)
}

/** What the invited missions wait for, and the controls this mission has on the sponsors. */
export function sponsorshipControls (a, mission, missions, run) {
  const parts = []
  const invited = a.invited || []
  if (invited.length) {
    parts.push(el('span', { class: 'invited', 'data-invited': a.id }, `Invited to co-sponsor: ${invited.join(', ')} (awaiting an answer)`))
  }
  const author = a.sponsors[0]
  if (invited.includes(mission)) {
    parts.push(
      el('span', { class: 'invitation' }, `${author} invites ${mission} to co-sponsor ${a.id}.`),
      button('Accept the invitation', () => run({ type: 'accept-invitation', amendment: a.id }), { class: 'primary', 'data-control': `accept-invitation:${a.id}` }),
      button('Decline', () => run({ type: 'decline-invitation', amendment: a.id }), { 'data-control': `decline-invitation:${a.id}` }))
  }
  if (author === mission) {
    const choices = missions.filter((m) => !a.sponsors.includes(m) && !invited.includes(m))
    if (choices.length) {
      const select = el('select', { 'aria-label': `Mission to invite as co-sponsor of ${a.id}`, 'data-control': `invitee:${a.id}` },
        ...choices.map((m) => el('option', { value: m }, m)))
      parts.push(select,
        button('Invite co-sponsor', () => run({ type: 'invite-sponsor', amendment: a.id, mission: select.value }), { 'data-control': `invite:${a.id}` }))
    }
    for (const m of invited) {
      parts.push(button(`Take back the invitation to ${m}`, () => run({ type: 'remove-sponsor', amendment: a.id, mission: m }), { 'data-control': `uninvite:${a.id}:${m}` }))
    }
  } else if (a.sponsors.includes(mission)) {
    parts.push(button('Withdraw our co-sponsorship', () => run({ type: 'remove-sponsor', amendment: a.id, mission }), { 'data-control': `leave:${a.id}` }))
  }
  return parts
}
