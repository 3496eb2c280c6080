// Makes the README's screenshot (docs/screenshot.png): the demo negotiation (`serve --demo`)
// as a delegation sees it, with an amendment being co-drafted and an agreed, locked paragraph.
// usage: node screenshot.mjs   (needs target/debug/concord, the built page and /usr/bin/chromium)
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'

const ROOT = resolve(import.meta.dirname, '../..')
const data = mkdtempSync(join(tmpdir(), 'concord-demo-'))
const server = spawn(join(ROOT, 'target/debug/concord'),
  ['serve', '--demo', '--listen', '127.0.0.1:0', '--data-dir', data],
  { env: { ...process.env, CONCORD_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] })
process.on('exit', () => server.kill('SIGTERM'))
const links = {}
let addr
await new Promise((resolve) => {
  createInterface({ input: server.stdout }).on('line', (line) => {
    const listening = /^listening on (.+)$/.exec(line)
    if (listening) addr = listening[1]
    const link = /^\s+(.+?)\s+(facilitator|delegation|observer)\s+(http\S+)$/.exec(line)
    if (link) links[link[1]] = link[3]
    if (Object.keys(links).length === 6) resolve()
  })
})
const token = (who) => new URL(links[who]).hash.match(/token=([^&]+)/)[1]
const post = (who, body) => fetch(`http://${addr}/api/docs/gcm/commands`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token(who)}`, 'content-type': 'application/json' },
  body: JSON.stringify(body)
}).then((r) => r.json())

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
const open = async (who) => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 820 } })
  await page.goto(links[who])
  await page.waitForSelector('#saved[data-state="saved"]')
  return page
}
const phl = await open('Delegate of the Philippines')
const idOf = (label) => phl.evaluate((l) => window.concord.model().paragraphs.find((p) => p.label === l).id, label)
const p17 = await idOf('17')
const p17a = await idOf('17(a)')
const created = await post('Delegate of the Philippines', { type: 'create-amendment', paragraph: p17, rationale: 'Data must protect privacy.' })
await post('Delegate of Morocco', { type: 'support', amendment: created.id })
await post('Delegate of the Philippines', { type: 'invite-sponsor', amendment: created.id, mission: 'MAR' })
await post('Delegate of Morocco', { type: 'accept-invitation', amendment: created.id })
await post('Delegate of the EU', { type: 'support', amendment: created.id })
await post('Co-facilitator (Mexico)', { type: 'set-status', paragraph: p17a, status: 'agreed-ad-ref' })
await post('Co-facilitator (Mexico)', { type: 'lock', paragraph: p17a, reason: 'agreed ad ref' })
const mar = await open('Delegate of Morocco')
await open('Co-facilitator (Switzerland)')
const area = phl.locator(`textarea[data-target="amendment-text:${created.id}"]`)
await area.focus()
await phl.keyboard.press('Control+End')
await phl.keyboard.type(' while protecting the right to privacy')
await mar.waitForFunction((id) => document.querySelector(`[data-target="amendment-text:${id}"]`).value.includes('privacy'), created.id)
await phl.waitForSelector('#saved[data-state="saved"]')
// The calm status says so after a pause, and the redline shows the words being added.
await phl.waitForFunction(() => document.querySelector('#saved').textContent === 'All changes saved')
await phl.waitForFunction((id) => !!document.querySelector(`[data-redline="${id}"] ins`), created.id)
await phl.locator(`#document > [data-paragraph="${p17}"]`).evaluate((n) => window.scrollTo(0, n.offsetTop - 70))
await phl.screenshot({ path: join(ROOT, 'docs/screenshot.png') })
await browser.close()
server.kill('SIGTERM')
rmSync(data, { recursive: true, force: true })
console.log('wrote docs/screenshot.png')
