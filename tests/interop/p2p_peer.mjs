// p2p_peer.mjs - a js-libp2p 3.x node for the libp2p interop tests.
//
// Run as `node --import ./polyfill.mjs p2p_peer.mjs MODE [ADDR]` (Node 20
// needs the polyfill for Promise.withResolvers). The node has TCP, Noise,
// Yamux, Identify and Ping, listens on 127.0.0.1 port 0 and serves
// /ggen/echo/1.0.0 (writes back every byte until the remote closes its
// side, then closes its own).
//
// Modes
//   listen, serve-echo  print "listening on <multiaddr>/p2p/<id>" and stay
//                       up until SIGTERM/SIGINT, until stdin reaches end of
//                       file (when stdin is a pipe, fifo or terminal; a
//                       /dev/null stdin is ignored) or MAX_SECONDS (300).
//                       Logs what the remote does:
//                         connection <peer> encryption=.. muxer=.. dir=..
//                         identify {json}     (after Identify of the remote)
//                         echoed N bytes for <peer>   (an echo stream ended)
//                         closed <peer>
//   check-peer ADDR     dial ADDR (with /p2p/) and run the checks below,
//                       then exit 0 when every check passed, 1 otherwise.
//   ping ADDR [N]       ping ADDR N times (default 10) the way
//                       `ggen market node ping` reports it:
//                         Pong received: time=X ms      (one per ping)
//                         Average latency: Yms
//                       exit 0 when all succeeded.
//   id                  print {"id": "<peer id>"} of the P2P_KEY_FILE key.
//
// P2P_KEY_FILE (any mode): keep the node key (libp2p PrivateKey protobuf) in
// this file, made on first use; without it every run has a new key. With
// it, listen + ping + id behave like our node's CLI, so the interop script
// can check its own logic js-to-js (P2P_SELFTEST=1).
// P2P_ECHO_FAULT=flip (tests of this checker only): the echo handler flips
// the first byte it echoes on each stream.
//
// check-peer output, one line each, in this order:
//   connected <remote addr> encryption=/noise muxer=/yamux/1.0.0
//   identify {"peerId","publicKey","publicKeyMatches","listenAddrs",
//             "protocols","protocolVersion","agentVersion","observedAddr"}
//   ping N rtt=X ms                        (PINGS times, default 10)
//   echo ok=N fail=N bytes=N seconds=X     (ECHO_STREAMS concurrent streams
//                                           of ECHO_BYTES each)
//   echo-fail I: reason                    (at most 5 of them)
//   idle seconds=N open=.. same=.. muxer-ping=.. ping=..
//   verdict {"connect":bool,"identify":bool,"ping":bool,"echo":bool,
//            "idle":bool,"ok":bool,"errors":[...]}        (always last)
//
// Environment (check-peer): PINGS (10), ECHO_STREAMS (100), ECHO_BYTES
// (1048576), IDLE_SECONDS (40; 0 skips the idle case), EXPECT_PROTOCOLS
// (comma list; default /ipfs/id/1.0.0,/ipfs/ping/1.0.0,/ggen/echo/1.0.0).
//
// Echo payload of stream I (0-based): xorshift32 words, little-endian,
// state seeded with (I + 1) * 0x9e3779b9 (mod 2^32, then | 1), each word
// after x ^= x << 13; x ^= x >>> 17; x ^= x << 5.
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
	generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf,
	publicKeyFromProtobuf
} from '@libp2p/crypto/keys'
import { setMaxListeners } from 'node:events'
import fs from 'node:fs'

const ECHO = '/ggen/echo/1.0.0'
const env = (name, dflt) => {
	const v = process.env[name]
	if (v == null || v === '') return dflt
	const n = Number(v)
	if (!Number.isFinite(n) || n < 0) {
		console.error(`bad ${name}=${v}`)
		process.exit(2)
	}
	return n
}

function out (line) {
	process.stdout.write(line + '\n')
}

// loadKey(): the P2P_KEY_FILE key (made on first use), or undefined.
async function loadKey () {
	const file = process.env.P2P_KEY_FILE
	if (file == null || file === '') return undefined
	try {
		return privateKeyFromProtobuf(fs.readFileSync(file))
	} catch (err) {
		if (err.code !== 'ENOENT') throw err
	}
	const key = await generateKeyPair('Ed25519')
	fs.writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 })
	return key
}

async function makeNode () {
	const node = await createLibp2p({
		privateKey: await loadKey(),
		addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
		transports: [tcp()],
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		services: {
			identify: identify(),
			ping: ping()
		}
	})
	await node.handle(ECHO, echoHandler, {
		maxInboundStreams: 512,
		maxOutboundStreams: 512
	})
	return node
}

let logEcho = false

async function echoHandler (stream, connection) {
	let flip = process.env.P2P_ECHO_FAULT === 'flip'
	let n = 0
	try {
		for await (let chunk of stream) {
			if (flip && chunk.byteLength > 0) {
				chunk = chunk.slice()
				chunk[0] ^= 0xff
				flip = false
			}
			n += chunk.byteLength
			if (!stream.send(chunk)) {
				await stream.onDrain()
			}
		}
		await stream.close()
		if (logEcho) out(`echoed ${n} bytes for ${connection.remotePeer}`)
	} catch (err) {
		stream.abort(err)
	}
}

function identifyJson (r) {
	let publicKeyMatches = false
	if (r.publicKey != null) {
		try {
			const key = publicKeyFromProtobuf(r.publicKey)
			publicKeyMatches = key.toCID().equals(r.peerId.toCID())
		} catch {
			publicKeyMatches = false
		}
	}
	return {
		peerId: r.peerId.toString(),
		publicKey: r.publicKey != null && r.publicKey.length > 0,
		publicKeyMatches,
		listenAddrs: r.listenAddrs.map(a => a.toString()),
		protocols: [...r.protocols],
		protocolVersion: r.protocolVersion ?? null,
		agentVersion: r.agentVersion ?? null,
		observedAddr: r.observedAddr?.toString() ?? null
	}
}

function connLine (conn) {
	return `encryption=${conn.encryption} muxer=${conn.multiplexer}`
}

async function runListen (node) {
	logEcho = true
	node.addEventListener('connection:open', (evt) => {
		const c = evt.detail
		out(`connection ${c.remotePeer} ${connLine(c)} dir=${c.direction}`)
	})
	node.addEventListener('connection:close', (evt) => {
		out(`closed ${evt.detail.remotePeer}`)
	})
	node.addEventListener('peer:identify', (evt) => {
		out('identify ' + JSON.stringify(identifyJson(evt.detail)))
	})
	for (const a of node.getMultiaddrs()) {
		out(`listening on ${a}`)
	}
	let done
	const stopped = new Promise(resolve => { done = resolve })
	process.on('SIGTERM', done)
	process.on('SIGINT', done)
	const st = fs.fstatSync(0)
	const devNull = st.isCharacterDevice() && !process.stdin.isTTY
	if (!devNull) {
		process.stdin.on('end', done)
		process.stdin.on('close', done)
		process.stdin.on('error', done)
		process.stdin.resume()
	}
	const max = setTimeout(done, env('MAX_SECONDS', 300) * 1000)
	await stopped
	clearTimeout(max)
	process.stdin.pause()
	await node.stop()
}

// payload(i, n): the deterministic bytes of echo stream i.
function payload (i, n) {
	const words = new Uint32Array(Math.ceil(n / 4))
	let x = (Math.imul(i + 1, 0x9e3779b9) | 1) >>> 0
	for (let k = 0; k < words.length; k++) {
		x ^= x << 13
		x ^= x >>> 17
		x ^= x << 5
		words[k] = x >>> 0
	}
	const bytes = new Uint8Array(words.buffer, 0, n)
	// Uint32Array is host-endian; make the bytes little-endian everywhere.
	if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
		const dv = new DataView(words.buffer)
		for (let k = 0; k < words.length; k++) {
			dv.setUint32(k * 4, words[k], true)
		}
	}
	return bytes
}

async function echoOne (conn, i, size, signal) {
	const data = payload(i, size)
	const stream = await conn.newStream(ECHO, {
		signal,
		maxOutboundStreams: 512
	})
	let got = 0
	let bad = null
	const reader = (async () => {
		for await (const chunk of stream) {
			const b = chunk.subarray()
			if (bad == null) {
				if (got + b.length > size) {
					bad = `more than ${size} bytes came back`
				} else {
					for (let k = 0; k < b.length; k++) {
						if (b[k] !== data[got + k]) {
							bad = `byte ${got + k} differs`
							break
						}
					}
				}
			}
			got += b.length
		}
	})()
	const CHUNK = 65536
	try {
		for (let off = 0; off < size; off += CHUNK) {
			if (!stream.send(data.subarray(off, off + CHUNK))) {
				await stream.onDrain({ signal })
			}
		}
		await stream.close({ signal })
		await reader
	} catch (err) {
		stream.abort(err)
		await reader.catch(() => {})
		throw err
	}
	if (bad != null) throw new Error(bad)
	if (got !== size) throw new Error(`${got} of ${size} bytes came back`)
}

function withTimeout (promise, ms, what) {
	let t
	const timer = new Promise((resolve, reject) => {
		t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)
	})
	return Promise.race([promise, timer]).finally(() => clearTimeout(t))
}

async function runCheck (node, addrText) {
	const v = {
		connect: false,
		identify: false,
		ping: false,
		echo: false,
		idle: false,
		ok: false,
		errors: []
	}
	const fail = (what, err) => {
		v.errors.push(`${what}: ${err?.message ?? err}`)
	}
	const expectProtocols = (process.env.EXPECT_PROTOCOLS ??
		'/ipfs/id/1.0.0,/ipfs/ping/1.0.0,/ggen/echo/1.0.0')
		.split(',').filter(p => p !== '')
	let ma, remote
	try {
		ma = multiaddr(addrText)
		const p2p = ma.getComponents().find(c => c.name === 'p2p')
		if (p2p == null) throw new Error('address has no /p2p/ part')
		remote = peerIdFromString(p2p.value)
	} catch (err) {
		fail('address', err)
		return v
	}

	// Identify runs by itself right after the upgrade: listen first.
	let identified
	const identifyResult = new Promise(resolve => { identified = resolve })
	node.addEventListener('peer:identify', (evt) => {
		if (evt.detail.peerId.equals(remote)) identified(evt.detail)
	})

	let conn
	try {
		conn = await node.dial(ma, { signal: AbortSignal.timeout(10000) })
		out(`connected ${conn.remoteAddr} ${connLine(conn)}`)
		if (conn.encryption !== '/noise') {
			throw new Error(`encryption ${conn.encryption}, expected /noise`)
		}
		if (conn.multiplexer !== '/yamux/1.0.0') {
			throw new Error(`muxer ${conn.multiplexer}, expected /yamux/1.0.0`)
		}
		v.connect = true
	} catch (err) {
		fail('connect', err)
		return v
	}

	try {
		const r = await withTimeout(identifyResult, 10000, 'identify')
		const j = identifyJson(r)
		out('identify ' + JSON.stringify(j))
		const missing = expectProtocols.filter(p => !j.protocols.includes(p))
		if (!j.publicKey) throw new Error('no public key')
		if (!j.publicKeyMatches) {
			throw new Error('public key does not match the peer id')
		}
		if (j.listenAddrs.length === 0) throw new Error('no listen addresses')
		if (missing.length > 0) {
			throw new Error(`protocols missing: ${missing.join(' ')}`)
		}
		v.identify = true
	} catch (err) {
		fail('identify', err)
	}

	const pings = env('PINGS', 10)
	try {
		for (let n = 1; n <= pings; n++) {
			const rtt = await node.services.ping.ping(remote, {
				signal: AbortSignal.timeout(5000)
			})
			out(`ping ${n} rtt=${rtt} ms`)
		}
		v.ping = true
	} catch (err) {
		fail('ping', err)
	}

	const streams = env('ECHO_STREAMS', 100)
	const size = env('ECHO_BYTES', 1048576)
	try {
		const t0 = Date.now()
		const signal = AbortSignal.timeout(60000)
		setMaxListeners(Infinity, signal)
		const results = await Promise.allSettled(Array.from(
			{ length: streams }, (_, i) => echoOne(conn, i, size, signal)))
		const bad = results.map((r, i) => [r, i])
			.filter(([r]) => r.status === 'rejected')
		const okCount = streams - bad.length
		out(`echo ok=${okCount} fail=${bad.length} bytes=${okCount * size} ` +
			`seconds=${(Date.now() - t0) / 1000}`)
		for (const [r, i] of bad.slice(0, 5)) {
			out(`echo-fail ${i}: ${r.reason?.message ?? r.reason}`)
		}
		if (bad.length > 0) {
			throw new Error(`${bad.length} of ${streams} streams failed`)
		}
		v.echo = true
	} catch (err) {
		fail('echo', err)
	}

	const idle = env('IDLE_SECONDS', 40)
	if (idle > 0) {
		try {
			await new Promise(resolve => setTimeout(resolve, idle * 1000))
			const open = conn.status === 'open'
			const conns = node.getConnections(remote)
			const same = conns.length === 1 && conns[0].id === conn.id
			// Yamux ping frame: answered by the remote muxer itself.
			let muxerPing = 'n/a'
			if (open && typeof conn.muxer?.ping === 'function') {
				muxerPing = await withTimeout(conn.muxer.ping(), 5000,
					'yamux ping').then(() => 'ok', e => `fail (${e.message})`)
			}
			let pingOk = false
			if (open) {
				pingOk = await node.services.ping.ping(remote, {
					signal: AbortSignal.timeout(5000)
				}).then(() => true, () => false)
			}
			out(`idle seconds=${idle} open=${open} same=${same} ` +
				`muxer-ping=${muxerPing} ping=${pingOk}`)
			if (!open) throw new Error(`connection ${conn.status} after ${idle} s`)
			if (!same) throw new Error('connection was replaced')
			if (muxerPing !== 'ok' && muxerPing !== 'n/a') {
				throw new Error(`yamux ping ${muxerPing}`)
			}
			if (!pingOk) throw new Error('ping after idle failed')
			v.idle = true
		} catch (err) {
			fail('idle', err)
		}
	} else {
		v.idle = true
	}
	v.ok = v.connect && v.identify && v.ping && v.echo && v.idle
	return v
}

// runPing: ggen-style ping output; returns true when every ping succeeded.
async function runPing (node, addrText, count) {
	const ma = multiaddr(addrText)
	let sum = 0
	for (let n = 0; n < count; n++) {
		try {
			const rtt = await node.services.ping.ping(ma, {
				signal: AbortSignal.timeout(10000)
			})
			out(`Pong received: time=${rtt} ms`)
			sum += rtt
		} catch (err) {
			console.error(`ping failed: ${err?.message ?? err}`)
			return false
		}
	}
	out(`Average latency: ${count > 0 ? sum / count : 0}ms`)
	return true
}

async function main () {
	const [mode, addr, countText] = process.argv.slice(2)
	const modes = ['listen', 'serve-echo', 'check-peer', 'ping', 'id']
	if (!modes.includes(mode) ||
		((mode === 'check-peer' || mode === 'ping') && addr == null)) {
		console.error('usage: p2p_peer.mjs listen|serve-echo|id|' +
			'check-peer ADDR|ping ADDR [N]')
		process.exit(2)
	}
	if (mode === 'id') {
		const key = await loadKey()
		if (key == null) {
			console.error('id: P2P_KEY_FILE is not set')
			process.exit(2)
		}
		out(JSON.stringify({ id: peerIdFromPrivateKey(key).toString() }))
		process.exit(0)
	}
	const node = await makeNode()
	if (mode === 'ping') {
		const count = countText == null ? 10 : Number(countText)
		const ok = await runPing(node, addr, count)
		await withTimeout(node.stop(), 5000, 'stop').catch(() => {})
		process.exit(ok ? 0 : 1)
	}
	if (mode !== 'check-peer') {
		await runListen(node)
		process.exit(0)
	}
	let v
	try {
		v = await runCheck(node, addr)
	} catch (err) {
		v = { ok: false, errors: [`unexpected: ${err?.stack ?? err}`] }
	}
	out('verdict ' + JSON.stringify(v))
	await withTimeout(node.stop(), 5000, 'stop').catch(() => {})
	process.exit(v.ok ? 0 : 1)
}

main().catch(err => {
	console.error(err)
	out('verdict ' + JSON.stringify({ ok: false, errors: [String(err)] }))
	process.exit(1)
})
