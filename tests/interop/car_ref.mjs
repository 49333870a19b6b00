// car_ref.mjs - the @ipld/car side of tests/interop/car_interop.sh.
//
//   node car_ref.mjs gen DIR              writes CARs with CarWriter into
//                                         DIR and prints "file root..." lines
//   node car_ref.mjs export-ref IN ROOT OUT
//                                         reads IN, walks ROOT depth first,
//                                         pre-order, links in order, each CID
//                                         once (as `ipfs dag export`), and
//                                         writes those blocks with CarWriter
//   node car_ref.mjs rewrite IN OUT       reads IN with CarBlockIterator and
//                                         writes the same roots and blocks in
//                                         the same order with CarWriter
//   node car_ref.mjs verify IN            reads IN with CarReader and checks
//                                         every block against its CID
//
// Exits non-zero with a message on stderr when anything fails.
import fs from 'node:fs'
import path from 'node:path'
import { CarBlockIterator, CarReader, CarWriter } from '@ipld/car'
import * as dagPB from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

async function writeCar (file, roots, blocks) {
  const { writer, out } = CarWriter.create(roots)
  const chunks = []
  const drain = (async () => { for await (const c of out) chunks.push(c) })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await drain
  fs.writeFileSync(file, Buffer.concat(chunks))
}

async function rawBlock (bytes) {
  return { cid: CID.create(1, raw.code, await sha256.digest(bytes)), bytes }
}

async function pbBlock (version, data, links) {
  const bytes = dagPB.encode(dagPB.prepare({
    Data: data,
    Links: links.map(([name, b]) => ({ Hash: b.cid, Name: name, Tsize: b.bytes.length }))
  }))
  return { cid: CID.create(version, dagPB.code, await sha256.digest(bytes)), bytes }
}

async function gen (dir) {
  const enc = new TextEncoder()
  const l1 = await rawBlock(enc.encode('leaf one\n'))
  const l2 = await rawBlock(enc.encode('leaf two\n'))
  const l3 = await rawBlock(enc.encode('leaf three\n'))
  const mid = await pbBlock(1, new Uint8Array([8, 1]), [['a', l1], ['b', l2]])
  const root = await pbBlock(1, new Uint8Array([8, 1]), [['m', mid], ['c', l3], ['z', l1]])
  // Bottom-up order, as an importer emits blocks: not the export order.
  await writeCar(path.join(dir, 'tree.car'), [root.cid], [l1, l2, l3, mid, root])
  console.log('tree.car', root.cid.toString())

  const solo = await rawBlock(enc.encode('a lone raw block'))
  const leaf = await rawBlock(enc.encode('under a v0 node'))
  const v0 = await pbBlock(0, new Uint8Array([8, 1]), [['f', leaf]])
  await writeCar(path.join(dir, 'two_roots.car'), [solo.cid, v0.cid], [v0, leaf, solo])
  console.log('two_roots.car', solo.cid.toString(), v0.cid.toString())

  const big = new Uint8Array(300000)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff
  const bigLeaf = await rawBlock(big)
  const empty = await rawBlock(new Uint8Array(0))
  const file = await pbBlock(1, new Uint8Array([8, 2]), [['', bigLeaf], ['', empty]])
  await writeCar(path.join(dir, 'big.car'), [file.cid], [file, bigLeaf, empty])
  console.log('big.car', file.cid.toString())

  // The tree CAR with one byte of a leaf changed: must be refused.
  const bad = { cid: l2.cid, bytes: enc.encode('leaf tw0\n') }
  await writeCar(path.join(dir, 'tampered.car'), [root.cid], [l1, bad, l3, mid, root])
}

async function readAll (file) {
  const it = await CarBlockIterator.fromBytes(fs.readFileSync(file))
  const roots = await it.getRoots()
  const blocks = []
  for await (const b of it) blocks.push(b)
  return { roots, blocks }
}

async function exportRef (inFile, rootText, outFile) {
  const { blocks } = await readAll(inFile)
  const byCid = new Map(blocks.map(b => [b.cid.toString(), b]))
  const root = CID.parse(rootText)
  const seen = new Set()
  const order = []
  const stack = [root]
  while (stack.length) {
    const cid = stack.pop()
    if (seen.has(cid.toString())) continue
    seen.add(cid.toString())
    const b = byCid.get(cid.toString())
    if (!b) throw new Error(`block ${cid} missing from ${inFile}`)
    order.push(b)
    if (cid.code === dagPB.code) {
      const links = dagPB.decode(b.bytes).Links
      for (let i = links.length - 1; i >= 0; i--) stack.push(links[i].Hash)
    }
  }
  await writeCar(outFile, [root], order)
}

async function rewrite (inFile, outFile) {
  const { roots, blocks } = await readAll(inFile)
  await writeCar(outFile, roots, blocks)
}

async function verify (inFile) {
  const reader = await CarReader.fromBytes(fs.readFileSync(inFile))
  let n = 0
  for await (const { cid, bytes } of reader.blocks()) {
    if (cid.multihash.code !== sha256.code) throw new Error(`${cid}: not sha2-256`)
    const d = await sha256.digest(bytes)
    if (Buffer.compare(Buffer.from(d.digest), Buffer.from(cid.multihash.digest)) !== 0) {
      throw new Error(`block ${cid} does not match its hash`)
    }
    n++
  }
  if (n === 0) throw new Error('no blocks')
  console.log(`${n} blocks verified`)
}

const [cmd, ...args] = process.argv.slice(2)
const cmds = { gen, 'export-ref': exportRef, rewrite, verify }
if (!cmds[cmd]) {
  console.error('usage: car_ref.mjs gen|export-ref|rewrite|verify ...')
  process.exit(2)
}
try {
  await cmds[cmd](...args)
} catch (err) {
  console.error(`car_ref.mjs ${cmd}: ${err.message}`)
  process.exit(1)
}
