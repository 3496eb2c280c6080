// The socket side of Concord's browser client. Everything that decides anything (sync, what may
// be edited, what is saved, backoff, rebuilding after a refusal) is in the wasm module; this
// file only moves frames between a WebSocket and it, and tells the page when to look again.
import init, { Client } from './pkg/concord_client_wasm.js'

let ready = null
/** Loads the wasm module once. */
export function load () {
  ready = ready || init()
  return ready
}

export class Connection {
  /**
   * @param {object} options
   * @param {string} options.server  e.g. `ws://127.0.0.1:8080`
   * @param {string} options.doc     the document id
   * @param {string} options.token   the person's token
   * @param {(events: object[]) => void} options.onChange  called after anything happened (the
   *   wasm client's events, and `{type: "socket-closed", code}` when the socket closed)
   */
  constructor ({ server, doc, token, onChange }) {
    this.client = new Client()
    this.server = server
    this.doc = doc
    this.token = token
    this.onChange = onChange
    this.ws = null
    this.timer = null
    this.paused = false
    this.pendingCommands = new Map()
    this.socketEvents = []
    window.addEventListener('online', () => this.reconnectNow())
  }

  start () {
    this.open()
  }

  open () {
    clearTimeout(this.timer)
    this.timer = null
    if (this.ws || this.paused) return
    // The token travels as a subprotocol, never in the URL (which proxies and the browser's
    // console print); `concord.v1` asks for Concord's own messages.
    const url = `${this.server}/ws/${encodeURIComponent(this.doc)}`
    const ws = new WebSocket(url, ['concord.v1', `concord.token.${this.token}`])
    ws.binaryType = 'arraybuffer'
    this.ws = ws
    let opened = false
    ws.onopen = () => {
      if (this.ws !== ws) return
      opened = true
      this.client.connected()
      this.pump()
    }
    ws.onmessage = (event) => {
      if (this.ws !== ws || typeof event.data === 'string') return
      this.client.receive(new Uint8Array(event.data))
      this.pump()
    }
    ws.onclose = (event) => {
      if (this.ws !== ws) return
      this.ws = null
      const again = this.client.disconnected(event.code, event.reason || '')
      // The page says why for some codes (4001: a new revision was published).
      this.socketEvents.push({ type: 'socket-closed', code: event.code })
      this.pump()
      // Closed for its token (revoked, expired: 4401), or refused before the upgrade, which a
      // browser reports only as closed: ask the server why (an expired or revoked link is not
      // a network problem), then try again or say so.
      const unauthenticated = event.code === 4401
      if ((!again && !unauthenticated) || this.paused) return
      const retry = () => { if (again) this.timer = setTimeout(() => this.open(), this.client.reconnectDelayMs(Math.random())) }
      if ((opened && !unauthenticated) || !this.checkToken) return retry()
      this.checkToken().then((refused) => {
        if (refused) {
          this.paused = true
          this.socketEvents.push({ type: 'signed-out', code: refused.code, reason: refused.reason })
          this.pump()
        } else if (this.ws === null && !this.paused) {
          retry()
        }
      })
    }
  }

  /** Carries on with a new token (a new link for the same person): what was typed and not
   *  saved yet is sent with the next sync. */
  useToken (token) {
    this.token = token
    this.paused = false
    if (this.ws) this.ws.close(1000, 'new token')
    else this.open()
  }

  reconnectNow () {
    if (!this.ws && !this.paused) this.open()
  }

  /** Goes offline on purpose (the socket closes; edits stay local) until `resume`. */
  pause () {
    this.paused = true
    clearTimeout(this.timer)
    if (this.ws) this.ws.close(1000, 'paused')
  }

  resume () {
    this.paused = false
    this.open()
  }

  /** Sends what the client has queued and tells the page what happened. */
  pump () {
    let frame
    while ((frame = this.client.takeOutgoing()) !== undefined) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame)
      // Otherwise the frame is dropped: the client re-sends whatever was not acknowledged
      // with the next sync, so nothing typed depends on this frame arriving.
    }
    const events = JSON.parse(this.client.takeEvents()).concat(this.socketEvents.splice(0))
    for (const event of events) {
      if (event.type === 'command-result' && this.pendingCommands.has(event.id)) {
        this.pendingCommands.get(event.id)(event.result)
        this.pendingCommands.delete(event.id)
      }
    }
    this.onChange(events)
  }

  model () { return JSON.parse(this.client.model()) }
  status () { return JSON.parse(this.client.status()) }

  /** Sets a text to `value`; throws `{rule, message}` if this person may not. */
  edit (target, value) {
    try {
      this.client.edit(JSON.stringify(target), value)
    } catch (error) {
      throw parse(error)
    } finally {
      this.pump()
    }
  }

  /** The current text of `target`, or undefined. */
  text (target) {
    return this.client.text(JSON.stringify(target))
  }

  mayEdit (target) {
    try {
      this.client.mayEdit(JSON.stringify(target))
      return true
    } catch {
      return false
    }
  }

  /** Sends a command; resolves with `{ok}` or `{error}`; throws `{code, message}` at once
   *  for what the server would refuse. */
  command (command) {
    let id
    try {
      id = this.client.command(JSON.stringify(command))
    } catch (error) {
      this.pump()
      throw parse(error)
    }
    const result = new Promise((resolve) => this.pendingCommands.set(id, resolve))
    this.pump()
    return result
  }

  dismissRecoverable (index) {
    this.client.dismissRecoverable(index)
    this.pump()
  }
}

function parse (error) {
  if (typeof error !== 'string') return error
  try { return JSON.parse(error) } catch { return { message: error } }
}
