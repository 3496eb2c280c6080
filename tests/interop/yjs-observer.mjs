// A stock Yjs observer (npm yjs + y-websocket) driven by Concord's revision tests: it keeps its
// replica across reconnections, as every stock client does (it does not know close 4001).
//
// usage: node yjs-observer.mjs <server-url> <document>   (token from CONCORD_TOKEN)
//   prints `READ <paragraph ids, comma-separated> <the first body>` after every sync, and
//   `CLOSED <code>` whenever the server closes the connection; y-websocket reconnects on its
//   own. Runs until killed.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [serverUrl, room] = process.argv.slice(2)
setTimeout(() => {
  console.error('yjs-observer: timed out')
  process.exit(1)
}, 60000).unref()

const doc = new Y.Doc()
const provider = new WebsocketProvider(serverUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  params: process.env.CONCORD_TOKEN ? { token: process.env.CONCORD_TOKEN } : {}
})
provider.on('sync', (synced) => {
  if (!synced) return
  const order = doc.getArray('order').toArray()
  const first = order.length ? doc.getMap('paragraphs').get(order[0])?.get('body')?.toString() : ''
  console.log(`READ ${order.join(',')} ${first ?? ''}`)
})
provider.on('connection-close', (event) => {
  console.log(`CLOSED ${event ? event.code : 'none'}`)
})
