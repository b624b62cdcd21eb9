/**
 * IPv4 / IPv6 addresses and CIDRs as NetworkPolicy `ipBlock`s need them (spec docs/concepts.md §9 step 3).
 *
 * Guarantees (all functions are pure):
 * - `parseCidr` accepts a CIDR or a bare address (→ /32 or /128), masks host bits (`10.1.2.3/8` →
 *   `10.0.0.0/8`) and returns the canonical text (dotted quad; RFC 5952 IPv6), so the same network always
 *   serialises the same way and a live policy compares equal to a freshly built one.
 * - Anything ambiguous is rejected rather than guessed: IPv4 octets with leading zeros (octal in some
 *   parsers), zone ids (`fe80::1%eth0`), prefixes with leading zeros or out of range.
 * - `compareCidr` is a total order: IPv4 before IPv6, then numerically by address, then by prefix length.
 */

export type IpFamily = 4 | 6

export interface IpAddress {
  readonly family: IpFamily
  /** 4 or 16 bytes, network order. */
  readonly bytes: ReadonlyArray<number>
}

export interface Cidr {
  readonly address: IpAddress
  readonly prefix: number
  /** Canonical `address/prefix`. */
  readonly text: string
}

const DECIMAL = /^(0|[1-9][0-9]*)$/u
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/u

const parseIpv4Bytes = (text: string): Array<number> | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  const bytes: Array<number> = []
  for (const part of parts) {
    if (!DECIMAL.test(part) || part.length > 3) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    bytes.push(n)
  }
  return bytes
}

const parseIpv6Bytes = (text: string): Array<number> | undefined => {
  if (text.includes("%")) return undefined
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const groupsOf = (part: string, allowV4Tail: boolean): Array<number> | undefined => {
    if (part === "") return []
    const pieces = part.split(":")
    const out: Array<number> = []
    for (const [i, piece] of pieces.entries()) {
      if (allowV4Tail && i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4Bytes(piece)
        if (v4 === undefined) return undefined
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
        continue
      }
      if (!HEX_GROUP.test(piece)) return undefined
      out.push(Number.parseInt(piece, 16))
    }
    return out
  }
  let groups: Array<number>
  if (halves.length === 2) {
    const head = groupsOf(halves[0] ?? "", false)
    const tail = groupsOf(halves[1] ?? "", true)
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  } else {
    const all = groupsOf(text, true)
    if (all === undefined || all.length !== 8) return undefined
    groups = all
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff])
}

/** Parses a bare IPv4 or IPv6 address (no brackets, no zone, no prefix). */
export const parseIp = (text: string): IpAddress | undefined => {
  const trimmed = text.trim()
  if (trimmed.includes(":")) {
    const bytes = parseIpv6Bytes(trimmed)
    return bytes === undefined ? undefined : { family: 6, bytes }
  }
  const bytes = parseIpv4Bytes(trimmed)
  return bytes === undefined ? undefined : { family: 4, bytes }
}

/** Canonical text: dotted quad, or RFC 5952 (lower case, longest zero run compressed, first on ties). */
export const formatIp = (ip: IpAddress): string => {
  const b = ip.bytes
  if (ip.family === 4) return b.join(".")
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0))
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${b.slice(12).join(".")}`
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(":")
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`
}

const maskBytes = (bytes: ReadonlyArray<number>, prefix: number): Array<number> =>
  bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i))
    return byte & ((0xff << (8 - bits)) & 0xff)
  })

/** A CIDR or a bare address (normalised to /32 or /128); `undefined` when unparsable. */
export const parseCidr = (text: string): Cidr | undefined => {
  const trimmed = text.trim()
  const slash = trimmed.indexOf("/")
  const ip = parseIp(slash < 0 ? trimmed : trimmed.slice(0, slash))
  if (ip === undefined) return undefined
  const max = ip.family === 4 ? 32 : 128
  let prefix = max
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1)
    if (!DECIMAL.test(prefixText)) return undefined
    prefix = Number(prefixText)
    if (prefix > max) return undefined
  }
  const address: IpAddress = { family: ip.family, bytes: maskBytes(ip.bytes, prefix) }
  return { address, prefix, text: `${formatIp(address)}/${prefix}` }
}

/** The single-address CIDR of an address (`/32` or `/128`). */
export const hostCidr = (ip: IpAddress): Cidr => {
  const prefix = ip.family === 4 ? 32 : 128
  return { address: ip, prefix, text: `${formatIp(ip)}/${prefix}` }
}

export const compareCidr = (a: Cidr, b: Cidr): number => {
  if (a.address.family !== b.address.family) return a.address.family - b.address.family
  for (let i = 0; i < a.address.bytes.length; i++) {
    const d = (a.address.bytes[i] ?? 0) - (b.address.bytes[i] ?? 0)
    if (d !== 0) return d
  }
  return a.prefix - b.prefix
}

/** Canonical text of a CIDR string when it parses, else the input unchanged (for comparisons). */
export const canonicalCidrText = (text: string): string => parseCidr(text)?.text ?? text

/** `0.0.0.0/0` and `::/0`: what a `*` DNS entry stands for. */
export const ANYWHERE: ReadonlyArray<string> = ["0.0.0.0/0", "::/0"]
