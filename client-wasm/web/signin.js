// Signing in honestly: before any socket, the page asks the server who its token says it is
// and whether it may open this document (`GET /api/session?doc=`), so that an invalid,
// expired, revoked or other document's link is said to be one, instead of a socket that
// fails as "offline" forever. Network trouble is said to be network trouble. The sign-in form
// comes back with the reason, and takes a new link without losing what was typed (the page
// keeps its client; the new token reconnects it).

/** What to tell a person about a refused token, by the server's code. */
const REASONS = {
  'missing-token': 'This link has no sign-in token.',
  'malformed-token': 'This sign-in link is not valid (the token is damaged or incomplete). Ask your secretariat for a new link.',
  'bad-signature': 'This sign-in link is not valid (it was not issued by this server). Ask your secretariat for a new link.',
  'unknown-key': 'This sign-in link is not valid (its key is unknown here). Ask your secretariat for a new link.',
  'wrong-audience': 'This sign-in link is for another service.',
  'wrong-issuer': 'This sign-in link was issued by another service.',
  'token-expired': 'Your sign-in link has expired. Ask your secretariat for a new one; what you typed is kept.',
  'token-not-yet-valid': 'This sign-in link is not valid yet (check your computer\'s clock).',
  'token-revoked': 'This sign-in link was revoked. Ask your secretariat for a new one.',
  'document-not-allowed': 'This sign-in link is for another document.',
  'unknown-role': 'This sign-in link names no role Concord knows.',
  'reserved-mission': 'This sign-in link names a mission reserved for the server.',
  'rate-limited': 'Too many requests from your mission just now; the page will try again.'
}

export function reasonFor (code, message) {
  return REASONS[code] || message || `Signing in failed (${code}).`
}

/**
 * Asks the server about `token` for `doc`. Resolves to `{ ok: true, session }`,
 * `{ ok: false, code, reason }` when the server refused it, or `{ ok: false, network: true,
 * reason }` when the server could not be reached.
 */
export async function checkSession (doc, token) {
  let response
  try {
    response = await fetch(`/api/session?doc=${encodeURIComponent(doc)}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store'
    })
  } catch {
    return { ok: false, network: true, reason: 'The server cannot be reached. Check your connection; the page will try again.' }
  }
  let body = {}
  try { body = await response.json() } catch {}
  if (response.ok) return { ok: true, session: body }
  // Too many requests is passing trouble, like the network's: the page tries again rather
  // than signing the person out.
  if (response.status === 429) return { ok: false, network: true, reason: REASONS['rate-limited'] }
  if (response.status >= 500) {
    return { ok: false, network: true, reason: 'The server is not answering properly just now; the page will try again.' }
  }
  return { ok: false, code: body.error, reason: reasonFor(body.error, body.message) }
}

/** Shows the sign-in form, with why when there is a reason; `onToken` gets a new token. */
export function showSignIn ({ doc, reason, onToken }) {
  const form = document.getElementById('signin')
  form.hidden = false
  const why = document.getElementById('signin-reason')
  why.textContent = reason || ''
  why.hidden = !reason
  document.getElementById('signin-doc').value = doc
  form.onsubmit = (event) => {
    event.preventDefault()
    const newDoc = document.getElementById('signin-doc').value.trim()
    const token = document.getElementById('signin-token').value.trim()
    // The token is kept for this tab, never put in the address.
    try { sessionStorage.setItem(`concord.token.${newDoc}`, token) } catch {}
    const hash = new URLSearchParams({ doc: newDoc })
    // Another document, or no page yet: start over. The same document: carry on in place.
    if (!onToken || newDoc !== doc) {
      history.replaceState(null, '', `#${hash}`)
      location.reload()
      return
    }
    form.hidden = true
    onToken(token)
  }
  document.getElementById('signin-token').focus()
}

export function hideSignIn () {
  document.getElementById('signin').hidden = true
}
