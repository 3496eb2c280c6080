// A stock Yjs client (npm yjs + y-websocket) driven by Concord's interop tests.
//
// usage: node yjs-client.mjs <server-url> <document> <target> <expect> <append> <await>
//   connects with y-websocket to <server-url>/<document> (token from CONCORD_TOKEN), waits for
//   the sync, checks that the target text contains <expect>, appends <append> and prints EDITED.
//   Then, if <await> is `!refused`, waits for the server to refuse the edit (close 4403), prints
//   REFUSED and exits 0; otherwise waits until the text contains <await>, prints SAW, exits 0.
//   <target> is `body` (the first paragraph's body) or `amendment:<id>` (an amendment's text).
//   Any failure exits non-zero with a message.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [serverUrl, room, target, expect, append, awaitText] = process.argv.slice(2)
const fail = (message) => {
  console.error(`yjs-client: ${message}`)
  process.exit(1)
}
setTimeout(() => fail('timed out'), 20000).unref()

const doc = new Y.Doc()
// The negotiation document's layout (protocol/src/schema.rs): texts live in maps.
const findText = () => {
  if (target === 'body') {
    const first = doc.getArray('order').get(0)
    return first && doc.getMap('paragraphs').get(first)?.get('body')
  }
  if (target.startsWith('amendment:')) {
    return doc.getMap('amendments').get(target.slice('amendment:'.length))?.get('text')
  }
  fail(`unknown target ${target}`)
}

const provider = new WebsocketProvider(serverUrl, room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  params: process.env.CONCORD_TOKEN ? { token: process.env.CONCORD_TOKEN } : {}
})

const until = (text, check) => new Promise((resolve) => {
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
  const text = findText()
  if (!text) fail(`no text ${target} in the synced document`)
  if (!text.toString().includes(expect)) fail(`text ${JSON.stringify(text.toString())} lacks ${JSON.stringify(expect)}`)
  if (awaitText === '!refused') {
    provider.on('connection-close', (event) => {
      if (event && event.code === 4403) {
        console.log('REFUSED')
        provider.destroy()
        process.exit(0)
      }
    })
  }
  text.insert(text.length, append)
  console.log('EDITED')
  if (awaitText === '!refused') return
  await until(text, () => text.toString().includes(awaitText))
  console.log('SAW')
  provider.destroy()
  process.exit(0)
})
