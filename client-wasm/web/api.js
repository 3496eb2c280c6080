// The document's REST routes (revisions, the draft of the next one, comparisons, an
// amendment's redline), read with the page's token.

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** GET `/api/docs/{doc}{path}` as JSON; throws an `ApiError` with the server's code. */
export async function get (conn, path) {
  let response
  try {
    response = await fetch(`/api/docs/${encodeURIComponent(conn.doc)}${path}`, {
      headers: { authorization: `Bearer ${conn.token}` },
      cache: 'no-store'
    })
  } catch (error) {
    throw new ApiError(0, 'unreachable', 'the server cannot be reached')
  }
  let body = null
  try { body = await response.json() } catch { body = null }
  if (!response.ok) {
    throw new ApiError(response.status, body && body.error, (body && body.message) || response.statusText)
  }
  return body
}
