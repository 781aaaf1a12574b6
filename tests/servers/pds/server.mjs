// A real Bluesky PDS (@atproto/pds) with an in-memory PLC directory (@did-plc/server), both bound
// to 127.0.0.1, for socialkit's integration tests. Started and stopped by fixture.py.
//
// Environment (all optional except where the fixture sets them):
//   PDS_PORT, PLC_PORT          ports to bind on 127.0.0.1 (0 or unset: a free port)
//   PDS_DATA_DIRECTORY          data directory (unset: a fresh temporary directory, removed on exit)
//   PDS_ADMIN_PASSWORD, PDS_JWT_SECRET, PDS_DPOP_SECRET   (unset: random)
//   PDS_RATE_LIMITS_ENABLED     defaults to "true" (createSession: 30 per 5 minutes)
//
// Prints one JSON line {"ready": true, "pdsUrl", "plcUrl", "dataDirectory"} on stdout when both
// servers answer; exits cleanly on SIGTERM/SIGINT or when stdin closes (the parent went away).

// Node 20: @atproto/* target Node >= 22 and use iterator helpers (Iterator.prototype.map, ...);
// the core-js polyfill must be loaded before any of them, hence the dynamic imports below.
import 'core-js/actual/iterator/index.js'

import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const HOST = '127.0.0.1'

const { PDS, envToCfg, envToSecrets, readEnv } = await import('@atproto/pds')
const plc = await import('@did-plc/server')
const { PlcServer, Database: PlcDatabase } = plc.default ?? plc

// express' app.listen(port) binds every interface; bind to loopback only. The listen in place
// is wrapped, not replaced: the PDS's XRPC server patches it to attach its WebSocket upgrade
// handler (com.atproto.sync.subscribeRepos), which must stay.
function bindToLoopback(app) {
  const listen = app.listen
  app.listen = (port, ...rest) => {
    const callback = typeof rest[rest.length - 1] === 'function' ? [rest.pop()] : []
    return listen.call(app, port, HOST, ...callback)
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function portFrom(value) {
  const port = Number.parseInt(value ?? '0', 10)
  return Number.isFinite(port) && port > 0 ? port : null
}

const plcPort = portFrom(process.env.PLC_PORT) ?? (await freePort())
const pdsPort = portFrom(process.env.PDS_PORT) ?? (await freePort())

let ownDataDirectory = false
let dataDirectory = process.env.PDS_DATA_DIRECTORY
if (!dataDirectory) {
  dataDirectory = await fs.mkdtemp(path.join(os.tmpdir(), 'socialkit-pds-'))
  ownDataDirectory = true
}
await fs.mkdir(path.join(dataDirectory, 'blobs'), { recursive: true })

// In-memory PLC directory.
const plcServer = PlcServer.create({ db: PlcDatabase.mock(), port: plcPort })
bindToLoopback(plcServer.app)
await plcServer.start()
// A host name, not an IP: the PDS builds did:plc operations and URLs from it.
const plcUrl = `http://localhost:${plcPort}`

const env = {
  ...process.env,
  PDS_PORT: String(pdsPort),
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_INVITE_REQUIRED: 'false',
  PDS_DID_PLC_URL: plcUrl,
  PDS_DATA_DIRECTORY: dataDirectory,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDirectory, 'blobs'),
  PDS_JWT_SECRET: process.env.PDS_JWT_SECRET || randomBytes(16).toString('hex'),
  PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || randomBytes(16).toString('hex'),
  PDS_DPOP_SECRET: process.env.PDS_DPOP_SECRET || randomBytes(32).toString('hex'),
  // A fresh random secp256k1 key each run (any 32 random bytes is a valid key with
  // overwhelming probability).
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: randomBytes(32).toString('hex'),
  PDS_RATE_LIMITS_ENABLED: process.env.PDS_RATE_LIMITS_ENABLED ?? 'true',
  LOG_ENABLED: process.env.LOG_ENABLED ?? 'false',
}
Object.assign(process.env, env)
const pdsEnv = readEnv()
const pds = await PDS.create(envToCfg(pdsEnv), envToSecrets(pdsEnv))
bindToLoopback(pds.app)
await pds.start()

const pdsUrl = `http://localhost:${pdsPort}`
process.stdout.write(
  `${JSON.stringify({ ready: true, pdsUrl, plcUrl, pdsPort, plcPort, dataDirectory })}\n`,
)

let stopping = false
async function stop(code) {
  if (stopping) return
  stopping = true
  try {
    await pds.destroy()
  } catch (err) {
    console.error('pds destroy failed', err)
  }
  try {
    await plcServer.destroy()
  } catch (err) {
    console.error('plc destroy failed', err)
  }
  if (ownDataDirectory) {
    await fs.rm(dataDirectory, { recursive: true, force: true })
  }
  process.exit(code)
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.on('error', () => stop(0))
process.stdin.resume()
