// The document's REST routes (revisions, the draft of the next one, comparisons, an
// amendment's redline, exports, the process and progress), read with the page's token, and
// files handed to the browser as downloads.

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** GET `/api/docs/{doc}{path}`; throws an `ApiError` with the server's code when refused. */
async function request (conn, path) {
  let response
  try {
    response = await fetch(`/api/docs/${encodeURIComponent(conn.doc)}${path}`, {
      headers: { authorization: `Bearer ${conn.token}` },
      cache: 'no-store'
    })
  } catch (error) {
    throw new ApiError(0, 'unreachable', 'the server cannot be reached')
  }
  if (!response.ok) {
    let body = null
    try { body = await response.json() } catch { body = null }
    throw new ApiError(response.status, body && body.error, (body && body.message) || response.statusText)
  }
  return response
}

/** GET `/api/docs/{doc}{path}` as JSON; throws an `ApiError` with the server's code. */
export async function get (conn, path) {
  const response = await request(conn, path)
  try {
    return await response.json()
  } catch {
    throw new ApiError(response.status, 'bad-answer', 'the server answered something unreadable')
  }
}

/** GET `/api/docs/{doc}{path}` as a file: `{blob, name}`, the name from `Content-Disposition`
 *  (else `fallback`); throws an `ApiError` with the server's code. */
export async function getFile (conn, path, fallback) {
  const response = await request(conn, path)
  let blob
  try {
    blob = await response.blob()
  } catch {
    throw new ApiError(0, 'unreachable', 'the file did not arrive whole')
  }
  return { blob, name: fileName(response.headers.get('content-disposition'), fallback) }
}

/** Hands a file (`{blob, name}`, as `getFile` gives) to the browser as a download. */
export function save (file) {
  const url = URL.createObjectURL(file.blob)
  const link = document.createElement('a')
  link.href = url
  link.download = file.name
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  // Long enough for the browser to have read it.
  setTimeout(() => URL.revokeObjectURL(url), 60000)
}

/** The file name a `Content-Disposition` header gives (`filename*=UTF-8''…` first, then
 *  `filename="…"`), without any folder; `fallback` when it gives none. */
export function fileName (disposition, fallback) {
  let name = null
  const extended = /filename\*\s*=\s*utf-8''([^;\s]+)/i.exec(disposition || '')
  if (extended) {
    try { name = decodeURIComponent(extended[1]) } catch { name = null }
  }
  if (!name) {
    const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition || '')
    const bare = /filename\s*=\s*([^;\s"]+)/i.exec(disposition || '')
    name = quoted ? quoted[1].replace(/\\(.)/g, '$1') : bare ? bare[1] : null
  }
  name = name && name.split(/[/\\]/).pop().trim()
  return name || fallback
}
