/**
 * A real, tiny authoritative DNS server for tests: UDP on 127.0.0.1, random port, answering configured A
 * and AAAA records, NXDOMAIN for unknown names, NODATA for known names without records of the asked type,
 * and optionally SERVFAIL / REFUSED / silence (to provoke timeouts). Records can be swapped while running
 * (to test re-resolution). No test touches the internet.
 */
import { createSocket, type RemoteInfo } from "node:dgram"
import { Effect, type Scope } from "effect"
import { parseIp } from "../../../../src/network/ip.ts"

export interface DnsRecord {
  readonly a?: ReadonlyArray<string>
  readonly aaaa?: ReadonlyArray<string>
  /** Answer with this failure instead of records. `drop` never answers (client times out). */
  readonly fail?: "servfail" | "refused" | "drop"
}

export interface DnsTestServer {
  /** `127.0.0.1:<port>`, ready for `Resolver.setServers` / `DnsOptions.servers`. */
  readonly server: string
  readonly port: number
  /** Every question received, as `<name> <A|AAAA|type>`. */
  readonly queries: ReadonlyArray<string>
  /** Replaces the records (names are case-insensitive, no trailing dot). */
  readonly setRecords: (records: Readonly<Record<string, DnsRecord>>) => void
}

interface Running extends DnsTestServer {
  readonly close: () => Promise<void>
}

const TYPE_A = 1
const TYPE_AAAA = 28

const readName = (msg: Buffer, start: number): { name: string; end: number } | undefined => {
  const labels: Array<string> = []
  let i = start
  while (i < msg.length) {
    const len = msg[i] ?? 0
    if (len === 0) return { name: labels.join("."), end: i + 1 }
    if (len >= 0xc0) return undefined // queries do not use compression
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("latin1"))
    i += 1 + len
  }
  return undefined
}

const respond = (
  query: Buffer,
  records: ReadonlyMap<string, DnsRecord>,
  log: Array<string>,
): Buffer | undefined => {
  if (query.length < 12) return undefined
  const q = readName(query, 12)
  if (q === undefined || q.end + 4 > query.length) return undefined
  const qtype = query.readUInt16BE(q.end)
  const name = q.name.toLowerCase()
  log.push(`${name} ${qtype === TYPE_A ? "A" : qtype === TYPE_AAAA ? "AAAA" : qtype}`)
  const record = records.get(name)
  if (record?.fail === "drop") return undefined
  const rcode = record === undefined ? 3 : record.fail === "servfail" ? 2 : record.fail === "refused" ? 5 : 0
  const addresses =
    rcode !== 0 ? [] : ((qtype === TYPE_A ? record?.a : qtype === TYPE_AAAA ? record?.aaaa : []) ?? [])
  const question = query.subarray(12, q.end + 4)
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0) // id
  const rd = (query[2] ?? 0) & 0x01
  header[2] = 0x80 | 0x04 | rd // QR, AA, RD copied
  header[3] = 0x80 | rcode // RA, rcode
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(addresses.length, 6)
  const answers = addresses.map((address) => {
    const ip = parseIp(address)
    const rdata = Buffer.from(ip?.bytes ?? [])
    const rr = Buffer.alloc(12)
    rr.writeUInt16BE(0xc00c, 0) // pointer to the question name
    rr.writeUInt16BE(qtype, 2)
    rr.writeUInt16BE(1, 4) // IN
    rr.writeUInt32BE(60, 6) // TTL
    rr.writeUInt16BE(rdata.length, 10)
    return Buffer.concat([rr, rdata])
  })
  return Buffer.concat([header, question, ...answers])
}

const normalise = (records: Readonly<Record<string, DnsRecord>>): Map<string, DnsRecord> =>
  new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase().replace(/\.$/u, ""), v]))

/** Starts the server for the enclosing scope. */
export const dnsTestServer = (
  initial: Readonly<Record<string, DnsRecord>>,
): Effect.Effect<DnsTestServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Running>((resume) => {
      const socket = createSocket("udp4")
      let records = normalise(initial)
      const queries: Array<string> = []
      socket.on("message", (msg: Buffer, peer: RemoteInfo) => {
        const reply = respond(msg, records, queries)
        if (reply !== undefined) socket.send(reply, peer.port, peer.address)
      })
      socket.bind(0, "127.0.0.1", () => {
        const port = socket.address().port
        resume(
          Effect.succeed({
            server: `127.0.0.1:${port}`,
            port,
            queries,
            setRecords: (next) => {
              records = normalise(next)
            },
            close: () => new Promise<void>((done) => socket.close(() => done())),
          }),
        )
      })
    }),
    (server) => Effect.promise(() => server.close()),
  )
