// Hocuspocus as a team would deploy it for the benchmark: @hocuspocus/server with its SQLite
// extension (documents stored in DATA/hocuspocus.sqlite), no authentication hook, listening
// on HOST:PORT. Started and stopped by bench/run.sh; Hocuspocus itself stores what is queued
// when it is stopped (SIGTERM).
import { join } from 'node:path'
import { Server } from '@hocuspocus/server'
import { SQLite } from '@hocuspocus/extension-sqlite'

const server = new Server({
  address: process.env.HOST || '127.0.0.1',
  port: Number(process.env.PORT || 1234),
  quiet: true,
  extensions: [new SQLite({ database: join(process.env.DATA || '.', 'hocuspocus.sqlite') })]
})
await server.listen()
