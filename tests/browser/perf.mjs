// How quick the page stays on a large text (issue 17: "large texts stay quick"): a generated
// 420-paragraph compilation text with 300 open amendments by four missions. Measures, in
// headless Chromium against the real server:
// - page load: navigation to the text rendered and synced ("saved");
// - a remote command's effect: a facilitator's lock sent over REST from the page's own clock
//   until the paragraph shows it, and the page's script work for it (CDP ScriptDuration);
// - a remote keystroke's effect: typed into an amendment on another connection, until the
//   text shows it.
// Prints JSON; the README quotes it. Not a test: nothing is asserted about time.
// usage: node perf.mjs   (needs target/debug/concord with the built page, /usr/bin/chromium)
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'

const ROOT = resolve(import.meta.dirname, '../..')
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, 'target')
const BIN = process.env.CONCORD_BIN || join(TARGET, 'debug/concord')
const PARAGRAPHS = 420
const AMENDMENTS = 300
const RUNS = 10

const data = mkdtempSync(join(tmpdir(), 'concord-perf-'))
const server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', data,
  '--mission-rate', '100000', '--mission-burst', '100000'],
{ env: { ...process.env, CONCORD_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] })
const addr = await new Promise((resolve) => createInterface({ input: server.stdout })
  .on('line', (line) => { const m = /^listening on (.+)$/.exec(line); if (m) resolve(m[1]) }))
const token = (person, mission, role) => execFileSync(BIN, ['token', '--sub', person, '--mission', mission,
  '--role', role, '--docs', 'gcm', '--data-dir', data]).toString().trim()
const chair = token('Chair', 'UN', 'facilitator')
const missions = ['EU', 'MEX', 'PHL', 'MAR'].map((m) => ({ mission: m, token: token(`Delegate ${m}`, m, 'delegation') }))
const post = async (tok, body) => {
  const r = await fetch(`http://${addr}/api/docs/gcm/commands`, {
    method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  if (!r.ok) throw new Error(`${body.type}: ${r.status} ${await r.text()}`)
  return r.json()
}

// The text: sections of twenty paragraphs of about sixty words.
let text = '# A compilation text\n\n'
for (let n = 1; n <= PARAGRAPHS; n++) {
  if (n % 20 === 1) text += `## Section ${Math.ceil(n / 20)}\n\n`
  const words = Array.from({ length: 60 }, (_, i) => ['migrants', 'cooperation', 'States', 'shall', 'ensure', 'rights', 'data', 'return'][(n * 7 + i * 3) % 8])
  text += `[${n}] ${words.join(' ')}.\n\n`
}
await post(chair, { type: 'import-text', text })
const model = await (await fetch(`http://${addr}/api/docs/gcm`, { headers: { authorization: `Bearer ${chair}` } })).json()
const ids = model.paragraphs.filter((p) => p.kind !== 'heading').map((p) => p.id)
for (let i = 0; i < AMENDMENTS; i++) {
  const by = missions[i % missions.length]
  await post(by.token, { type: 'create-amendment', paragraph: ids[(i * 7) % ids.length], rationale: 'Bracketed.' })
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync']
})
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const open = async (tok) => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  const started = Date.now()
  await page.goto(`http://${addr}/#doc=gcm&token=${tok}`)
  await page.waitForSelector('#saved[data-state="saved"]', { timeout: 60000 })
  await page.waitForFunction((n) => document.querySelectorAll('#document [data-amendment]').length >= n, AMENDMENTS, { timeout: 60000 })
  return { page, loadMs: Date.now() - started }
}

const loads = []
for (let i = 0; i < 3; i++) {
  const { page, loadMs } = await open(missions[1].token)
  loads.push(loadMs)
  await page.close()
}
const { page } = await open(missions[1].token)
const cdp = await page.context().newCDPSession(page)
await cdp.send('Performance.enable')
const scriptSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ScriptDuration').value

// The wasm client's whole model, as the page reads it after every structural change.
const modelMs = await page.evaluate(() => {
  const took = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    window.concord.model()
    took.push(performance.now() - t0)
  }
  return took.sort((a, b) => a - b)[2]
})

const modelBytes = await page.evaluate(() => {
  const json = window.concord.client.model()
  const model = JSON.parse(json)
  const part = (f) => JSON.stringify(model.paragraphs.map(f)).length
  return {
    total: json.length,
    bodies: part((p) => p.body),
    amendment_texts: part((p) => p.amendments.map((a) => a.text)),
    amendment_base_bodies: part((p) => p.amendments.map((a) => a.base_body)),
    process: JSON.stringify(model.process).length,
    revisions: JSON.stringify(model.revisions).length
  }
})

const commandMs = []
const commandScriptMs = []
for (let i = 0; i < RUNS; i++) {
  const paragraph = ids[(i * 37 + 11) % ids.length]
  const before = await scriptSeconds()
  const took = await page.evaluate(async ([tok, paragraph]) => {
    const t0 = performance.now()
    const r = await fetch('/api/docs/gcm/commands', {
      method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'lock', paragraph, reason: 'agreed ad ref' })
    })
    if (!r.ok) throw new Error(await r.text())
    await new Promise((resolve) => {
      const check = () => document.querySelector(`[data-locked="${paragraph}"]`) ? resolve() : requestAnimationFrame(check)
      check()
    })
    return performance.now() - t0
  }, [chair, paragraph])
  commandMs.push(took)
  commandScriptMs.push((await scriptSeconds() - before) * 1000)
}

if (process.env.PROFILE) {
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.start')
  for (let i = 0; i < 5; i++) {
    const paragraph = ids[(i * 53 + 5) % ids.length]
    await page.evaluate(async ([tok, paragraph]) => {
      await fetch('/api/docs/gcm/commands', { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'lock', paragraph, reason: 'x' }) })
      await new Promise((resolve) => { const check = () => document.querySelector(`[data-locked="${paragraph}"]`) ? resolve() : requestAnimationFrame(check); check() })
    }, [chair, paragraph])
  }
  const { profile } = await cdp.send('Profiler.stop')
  const self = new Map()
  const dt = profile.timeDeltas
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  profile.samples.forEach((id, i) => {
    const n = byId.get(id); const name = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`
    self.set(name, (self.get(name) || 0) + (dt[i] || 0) / 1000)
  })
  console.error([...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v.toFixed(1)}ms ${k}`).join('\n'))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n)
  const callers = new Map()
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)
    if (!['querySelector', 'querySelectorAll'].includes(n.callFrame.functionName)) return
    const up = parent.get(id); const name = up ? `${up.callFrame.functionName} ${up.callFrame.url.split('/').pop()}:${up.callFrame.lineNumber}` : '?'
    callers.set(name, (callers.get(name) || 0) + (dt[i] || 0) / 1000)
  })
  console.error('CALLERS\n' + [...callers].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => `${v.toFixed(1)}ms ${k}`).join('\n'))
}

// A keystroke on another connection, until this page shows it.
const { page: typist } = await open(missions[0].token)
const amendment = (await (await fetch(`http://${addr}/api/docs/gcm/amendments?mission=EU`, { headers: { authorization: `Bearer ${chair}` } })).json()).amendments
  .find((a) => !model.paragraphs.find((p) => p.id === a.paragraph)?.lock)
const keystrokeMs = []
for (let i = 0; i < RUNS; i++) {
  const word = ` w${i}`
  const t0 = Date.now()
  const area = typist.locator(`textarea[data-target="amendment-text:${amendment.id}"]`)
  await area.focus()
  await typist.keyboard.press('Control+End')
  await typist.keyboard.type(word)
  await page.waitForFunction(([id, w]) => (document.querySelector(`[data-target="amendment-text:${id}"]`) || {}).value?.endsWith(w) ||
    (document.querySelector(`[data-target="amendment-text:${id}"]`) || {}).textContent?.endsWith(w), [amendment.id, word], { timeout: 30000 })
  keystrokeMs.push(Date.now() - t0)
}

const round = (x) => Math.round(x * 10) / 10
console.log(JSON.stringify({
  paragraphs: PARAGRAPHS,
  open_amendments: AMENDMENTS,
  load_ms: { median: median(loads), runs: loads },
  model_read_ms: round(modelMs),
  model_bytes: modelBytes,
  remote_command_to_view_ms: { median: round(median(commandMs)), max: round(Math.max(...commandMs)) },
  remote_command_script_ms: { median: round(median(commandScriptMs)), max: round(Math.max(...commandScriptMs)) },
  remote_keystroke_to_view_ms: { median: median(keystrokeMs), max: Math.max(...keystrokeMs) }
}, null, 2))
await browser.close()
server.kill()
rmSync(data, { recursive: true, force: true })
