// unixfs_ref.mjs [--json] [--null] PATH - prints the root CID that the reference
// importer (ipfs-unixfs-importer, {cidVersion: 1, rawLeaves: true}, the
// settings of `ipfs add -r --cid-version=1`) gives the file or folder PATH.
//
// A folder is fed as one entry per file and per empty folder, paths prefixed
// with the folder's name, so the folder itself is the root (not wrapped).
// Non-empty folders are not fed as entries: the tree builder makes them from
// their children (feeding them would only change its sharding estimate).
// Blocks go to a MemoryBlockstore, or with --null nowhere (for benchmarks).
// --json prints {"cid", "size" (file bytes), "blocks" (blocks put)} instead.
import { createReadStream, lstatSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { importer } from 'ipfs-unixfs-importer'
import { MemoryBlockstore } from 'blockstore-core/memory'

const args = process.argv.slice(2)
const nullStore = args.includes('--null')
const json = args.includes('--json')
const path = args.find((a) => !a.startsWith('--'))
if (!path) {
  console.error('usage: node unixfs_ref.mjs [--json] [--null] PATH')
  process.exit(2)
}

const memory = new MemoryBlockstore()
let blocks = 0
let bytes = 0
const blockstore = {
  put: async (cid, data, opts) => {
    blocks++
    return nullStore ? cid : memory.put(cid, data, opts)
  },
  has: async (cid) => !nullStore && memory.has(cid)
}

function * walk (abs, rel) {
  const st = lstatSync(abs)
  if (st.isFile()) {
    bytes += st.size
    yield { path: rel, content: createReadStream(abs, { highWaterMark: 1 << 20 }) }
    return
  }
  if (!st.isDirectory()) throw new Error(`unsupported entry ${abs}`)
  const names = readdirSync(abs)
  if (names.length === 0) {
    yield { path: rel }
    return
  }
  for (const n of names) yield * walk(join(abs, n), `${rel}/${n}`)
}

const root = basename(path.replace(/\/+$/, '')) || 'root'
let last
for await (const entry of importer(walk(path, root), blockstore, {
  cidVersion: 1,
  rawLeaves: true
})) {
  last = entry
}
if (json) {
  console.log(JSON.stringify({ cid: last.cid.toString(), size: bytes, blocks }))
} else {
  console.log(last.cid.toString())
}
