// p2p_bench.mjs - the js-libp2p side of the libp2p benchmark
// (bench/bench_p2p.sh); same modes and output as bench/bench_p2p.c.
//
// Uses the pinned js-libp2p stack of tests/interop (TCP, Noise, Yamux,
// Identify; node_modules must be installed there). Node 20 is fine: the
// Promise.withResolvers polyfill is built in below.
//
//   node bench/p2p_bench.mjs server
//       listens on 127.0.0.1 port 0, serves /ggen/echo/1.0.0, prints
//       "listening on <multiaddr>/p2p/<id>", stops on SIGTERM/SIGINT or
//       when stdin ends, then prints its CPU time since it was ready.
//   node bench/p2p_bench.mjs client ADDR --conns SECONDS
//       sequential connections for SECONDS: dial, Noise, Yamux, wait for
//       Identify, one echo stream carrying one byte, close.
//   node bench/p2p_bench.mjs client ADDR --throughput SECONDS --streams K
//       one connection, K echo streams kept busy for SECONDS; counts the
//       bytes that came back.
//
// Output (one line each; cpu_us = user+sys microseconds of this process
// over the measured part only):
//   | mode       | line                                                |
//   |------------|-----------------------------------------------------|
//   | server     | listening on /ip4/127.0.0.1/tcp/P/p2p/12D3KooW...   |
//   | server     | server conns=N cpu_us=U                             |
//   | --conns    | client conns=N seconds=S rate=R cpu_us=U            |
//   | throughput | client streams=K bytes=B seconds=S mbps=M cpu_us=U  |
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setMaxListeners } from 'node:events'

if (typeof Promise.withResolvers !== 'function') {
	Promise.withResolvers = function withResolvers () {
		let resolve, reject
		const promise = new this((res, rej) => { resolve = res; reject = rej })
		return { promise, resolve, reject }
	}
}

const ECHO = '/ggen/echo/1.0.0'
const here = path.dirname(fileURLToPath(import.meta.url))
const modules = path.join(here, '..', 'tests', 'interop', 'node_modules')

// load(pkg): imports pkg from tests/interop/node_modules (its ESM entry).
async function load (pkg) {
	const dir = path.join(modules, pkg)
	const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json')))
	let e = pj.exports?.['.'] ?? pj.exports
	while (e != null && typeof e === 'object') e = e.import ?? e.default
	return import(pathToFileURL(path.join(dir, e ?? pj.main ?? 'index.js')))
}

const { createLibp2p } = await load('libp2p')
const { tcp } = await load('@libp2p/tcp')
const { noise } = await load('@chainsafe/libp2p-noise')
const { yamux } = await load('@chainsafe/libp2p-yamux')
const { identify } = await load('@libp2p/identify')
const { multiaddr } = await load('@multiformats/multiaddr')

function out (line) {
	process.stdout.write(line + '\n')
}

function cpuUs () {
	const u = process.cpuUsage()
	return u.user + u.system
}

function usage () {
	console.error('usage: p2p_bench.mjs server | client ADDR ' +
		'(--conns SECONDS | --throughput SECONDS --streams K)')
	process.exit(2)
}

async function makeNode (listen) {
	const node = await createLibp2p({
		addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
		transports: [tcp()],
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		services: { identify: identify() },
		// no per-host inbound rate limit: all dials come from 127.0.0.1
		connectionManager: {
			maxConnections: 1024,
			inboundConnectionThreshold: 1e9
		}
	})
	await node.handle(ECHO, echoHandler, {
		maxInboundStreams: 512,
		maxOutboundStreams: 512
	})
	return node
}

async function echoHandler (stream) {
	try {
		for await (const chunk of stream) {
			if (!stream.send(chunk)) await stream.onDrain()
		}
		await stream.close()
	} catch (err) {
		stream.abort(err)
	}
}

async function runServer () {
	const node = await makeNode(true)
	let conns = 0
	node.addEventListener('connection:open', () => { conns++ })
	for (const a of node.getMultiaddrs()) out(`listening on ${a}`)
	const c0 = cpuUs()
	const { promise, resolve } = Promise.withResolvers()
	process.on('SIGTERM', resolve)
	process.on('SIGINT', resolve)
	process.stdin.on('end', resolve)
	process.stdin.on('close', resolve)
	process.stdin.on('error', resolve)
	process.stdin.resume()
	await promise
	out(`server conns=${conns} cpu_us=${cpuUs() - c0}`)
	process.exit(0)
}

// oneConn(): dial, wait for Identify, echo one byte, close.
async function oneConn (node, ma, remote) {
	const { promise: idp, resolve: idr } = Promise.withResolvers()
	const onId = (evt) => {
		if (evt.detail.peerId.toString() === remote) idr()
	}
	node.addEventListener('peer:identify', onId)
	try {
		const conn = await node.dial(ma)
		await idp
		const s = await conn.newStream(ECHO)
		s.send(Uint8Array.of(42))
		await s.close()
		let got = 0
		for await (const chunk of s) got += chunk.byteLength
		if (got !== 1) throw new Error(`echo returned ${got} bytes`)
		await conn.close()
	} finally {
		node.removeEventListener('peer:identify', onId)
	}
}

async function runConns (node, ma, remote, seconds) {
	const c0 = cpuUs()
	const t0 = process.hrtime.bigint()
	const end = t0 + BigInt(Math.round(seconds * 1e9))
	let n = 0
	let t = t0
	while (t < end) {
		await oneConn(node, ma, remote)
		n++
		t = process.hrtime.bigint()
	}
	const s = Number(t - t0) / 1e9
	out(`client conns=${n} seconds=${s.toFixed(3)} ` +
		`rate=${(n / s).toFixed(1)} cpu_us=${cpuUs() - c0}`)
}

async function runThroughput (node, ma, seconds, k) {
	const conn = await node.dial(ma)
	const chunk = new Uint8Array(65536).fill(7)
	let bytes = 0
	let counting = true
	let stop = false
	const one = async () => {
		const s = await conn.newStream(ECHO, { maxOutboundStreams: 512 })
		const reader = (async () => {
			for await (const c of s) {
				if (counting) bytes += c.byteLength
			}
		})()
		// send()/onDrain() may settle without going through the event
		// loop: yield after each chunk so the reader and the timer run
		while (!stop) {
			if (!s.send(chunk)) await s.onDrain()
			await new Promise(resolve => setImmediate(resolve))
		}
		s.abort(new Error('done'))
		await reader.catch(() => {})
	}
	const c0 = cpuUs()
	const t0 = process.hrtime.bigint()
	const all = Array.from({ length: k }, one)
	await new Promise(resolve => setTimeout(resolve, seconds * 1000))
	counting = false
	const s = Number(process.hrtime.bigint() - t0) / 1e9
	const cpu = cpuUs() - c0
	const b = bytes
	stop = true
	out(`client streams=${k} bytes=${b} seconds=${s.toFixed(3)} ` +
		`mbps=${(b / s / 1e6).toFixed(1)} cpu_us=${cpu}`)
	await Promise.race([Promise.allSettled(all),
		new Promise(resolve => setTimeout(resolve, 1000))])
}

async function runClient (args) {
	const addr = args[0]
	let conns = null
	let tput = null
	let k = 1
	for (let i = 1; i < args.length; i += 2) {
		const v = Number(args[i + 1])
		if (!Number.isFinite(v) || v <= 0) usage()
		if (args[i] === '--conns') conns = v
		else if (args[i] === '--throughput') tput = v
		else if (args[i] === '--streams') k = Math.floor(v)
		else usage()
	}
	if (addr == null || (conns == null) === (tput == null)) usage()
	const ma = multiaddr(addr)
	const p2p = ma.getComponents().find(c => c.name === 'p2p')
	if (p2p == null) usage()
	const node = await makeNode(false)
	if (conns != null) await runConns(node, ma, p2p.value, conns)
	else await runThroughput(node, ma, tput, k)
	process.exit(0)
}

setMaxListeners(Infinity)
const [mode, ...rest] = process.argv.slice(2)
if (mode === 'server') await runServer()
else if (mode === 'client') await runClient(rest)
else usage()
