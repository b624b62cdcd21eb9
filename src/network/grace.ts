/**
 * Flap damping for DNS-derived peers (docs/concepts.md §9 step 3, defect 2): an address a name resolved to stays
 * allowed for a grace period (default: the DNS refresh interval) after it was last seen, so CDN-style
 * rotation does not rewrite the policy on every refresh or cut connections to an address just rotated out.
 *
 * Guarantees (pure, immutable: every function returns a new memory and never mutates its input):
 * - An address is kept while `now - lastSeen <= graceMs` (inclusive, so a re-resolution exactly one
 *   interval later still sees the previous answer).
 * - A failed lookup does not erase what was seen: the name keeps its recent addresses until they age out
 *   (a transient resolver timeout does not close the rule), and only then does the failure show.
 * - `withGrace` also prunes: names and addresses older than the grace period are dropped, so the memory
 *   stays bounded by what was resolved within one period.
 * - Addresses are canonicalised and returned sorted (IPv4 first, numerically) and deduplicated.
 */
import { compareCidr, formatIp, hostCidr, parseIp } from "./ip.ts"
import type { DnsAnswer } from "./names.ts"

/** name (`dnsKey`) → canonical address → last-seen time in epoch milliseconds. */
export interface GraceMemory {
  readonly names: ReadonlyMap<string, ReadonlyMap<string, number>>
}

export const emptyGraceMemory: GraceMemory = { names: new Map() }

const canonical = (address: string): string | undefined => {
  const ip = parseIp(address)
  return ip === undefined ? undefined : formatIp(ip)
}

const sortAddresses = (addresses: Iterable<string>): Array<string> =>
  [...new Set(addresses)]
    .flatMap((a) => {
      const ip = parseIp(a)
      return ip === undefined ? [] : [{ a, c: hostCidr(ip) }]
    })
    .sort((x, y) => compareCidr(x.c, y.c))
    .map(({ a }) => a)

/** Records every address of every `Resolved` answer as seen at `now`. */
export const rememberAnswers = (
  memory: GraceMemory,
  answers: ReadonlyMap<string, DnsAnswer>,
  now: number,
): GraceMemory => {
  const names = new Map(memory.names)
  for (const [name, answer] of answers) {
    if (answer._tag !== "Resolved") continue
    const seen = new Map(names.get(name) ?? [])
    for (const address of answer.addresses) {
      const c = canonical(address)
      if (c !== undefined) seen.set(c, Math.max(now, seen.get(c) ?? now))
    }
    if (seen.size > 0) names.set(name, seen)
  }
  return { names }
}

/** Addresses of `name` seen within the grace period, sorted. */
export const addressesWithin = (
  memory: GraceMemory,
  name: string,
  now: number,
  graceMs: number,
): Array<string> =>
  sortAddresses(
    [...(memory.names.get(name) ?? new Map<string, number>())]
      .filter(([, seen]) => now - seen <= graceMs)
      .map(([address]) => address),
  )

/** Drops addresses (and names) last seen longer than `graceMs` ago. */
export const pruneMemory = (memory: GraceMemory, now: number, graceMs: number): GraceMemory => {
  const names = new Map<string, ReadonlyMap<string, number>>()
  for (const [name, seen] of memory.names) {
    const kept = new Map([...seen].filter(([, at]) => now - at <= graceMs))
    if (kept.size > 0) names.set(name, kept)
  }
  return { names }
}

/**
 * Feeds fresh resolver answers into the memory and returns, per answered name, the union of the fresh
 * addresses and those seen within the grace period. A failure with remembered addresses becomes
 * `Resolved` with those; a failure without any stays as it is.
 */
export const withGrace = (
  memory: GraceMemory,
  answers: ReadonlyMap<string, DnsAnswer>,
  now: number,
  graceMs: number,
): { readonly memory: GraceMemory; readonly answers: ReadonlyMap<string, DnsAnswer> } => {
  const next = pruneMemory(rememberAnswers(memory, answers, now), now, graceMs)
  const merged = new Map<string, DnsAnswer>()
  for (const [name, answer] of answers) {
    const addresses = addressesWithin(next, name, now, graceMs)
    merged.set(name, addresses.length > 0 ? { _tag: "Resolved", addresses } : answer)
  }
  return { memory: next, answers: merged }
}
