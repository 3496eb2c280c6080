// A stock Yjs client (npm yjs + y-websocket) driven by Concord's interop test.
//
// usage: node yjs-client.mjs <server-url> <document> <expect> <append> <await>
//   connects with y-websocket to <server-url>/<document>, waits for the sync, checks the shared
//   text "text" contains <expect>, appends <append>, prints EDITED, then waits until the text
//   contains <await>, prints SAW and exits 0. Any failure exits non-zero with a message.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [serverUrl, room, expect, append, awaitText] = process.argv.slice(2)
const fail = (message) => {
  console.error(`yjs-client: ${message}`)
  process.exit(1)
}
setTimeout(() => fail('timed out'), 20000).unref()

const doc = new Y.Doc()
const text = doc.getText('text')
const provider = new WebsocketProvider(serverUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  params: process.env.CONCORD_TOKEN ? { token: process.env.CONCORD_TOKEN } : {}
})

const until = (check) => new Promise((resolve) => {
  if (check()) return resolve()
  const observer = () => {
    if (check()) {
      text.unobserve(observer)
      resolve()
    }
  }
  text.observe(observer)
})

provider.once('sync', async (synced) => {
  if (!synced) fail('sync event without sync')
  if (!text.toString().includes(expect)) fail(`text ${JSON.stringify(text.toString())} lacks ${JSON.stringify(expect)}`)
  text.insert(text.length, append)
  console.log('EDITED')
  await until(() => text.toString().includes(awaitText))
  console.log('SAW')
  provider.destroy()
  process.exit(0)
})
