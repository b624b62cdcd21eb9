/**
 * `Dns`: A + AAAA resolution of egress host names through node:dns's c-ares `Resolver` (docs/concepts.md §9 step 3).
 *
 * Guarantees:
 * - Never fails: every name gets a `DnsAnswer` — addresses (IPv4 and IPv6 together, canonical, sorted,
 *   deduplicated) or a typed failure (`NotFound` = NXDOMAIN, `NoData`, `Timeout`, `Refused`,
 *   `ServerFailure`, `Error`). If either family answers, the name is `Resolved`.
 * - Names are keyed by `dnsKey`: lower case, trailing dot and a leading `*.` removed (documented
 *   limitation: `*.example.com` resolves the apex only).
 * - Each query uses its own `Resolver`, so interrupting one (e.g. on reconcile cancellation) cancels only
 *   its own outstanding queries. Bounded in time: c-ares timeout × tries per server, plus an Effect
 *   timeout as a backstop.
 * Assumptions: the configured servers answer plain UDP/TCP DNS; the operator's view of a name equals the
 * workload's (true for external names; in-cluster names never reach this service, see names.ts).
 */
import { Resolver } from "node:dns"
import { Context, Duration, Effect, Layer } from "effect"
import { Settings } from "../settings.ts"
import { formatIp, parseIp } from "./ip.ts"
import { type DnsAnswer, type DnsFailureReason, dnsKey } from "./names.ts"

export type { DnsAnswer, DnsFailureReason } from "./names.ts"

export interface DnsOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; empty/absent = the system configuration (/etc/resolv.conf). */
  readonly servers?: ReadonlyArray<string>
  /** Per-try timeout in milliseconds (default 2000). */
  readonly timeoutMs?: number
  /** Tries per server (default 2). */
  readonly tries?: number
}

export interface DnsShape {
  /** A + AAAA for one name. */
  readonly resolve: (name: string) => Effect.Effect<DnsAnswer>
  /** Every distinct name (by `dnsKey`), concurrently; the map is keyed by `dnsKey`. */
  readonly resolveAll: (names: Iterable<string>) => Effect.Effect<ReadonlyMap<string, DnsAnswer>>
}

export class Dns extends Context.Service<Dns, DnsShape>()("langop/network/Dns") {
  /** Resolver with explicit options (tests point it at a local server). */
  static readonly layer = (options: DnsOptions = {}): Layer.Layer<Dns> =>
    Layer.sync(Dns, () => makeDns(options))

  /** From the operator settings `LANGOP_DNS_SERVERS` and `LANGOP_DNS_TIMEOUT`. */
  static readonly layerFromSettings: Layer.Layer<Dns, never, Settings> = Layer.effect(
    Dns,
    Settings.useSync((s) =>
      makeDns({ servers: parseServers(s.dnsServers), timeoutMs: Duration.toMillis(s.dnsTimeout) }),
    ),
  )

  /** Fixed answers keyed by `dnsKey`; unknown names are `NotFound`. */
  static readonly layerTest = (answers: Readonly<Record<string, DnsAnswer>>): Layer.Layer<Dns> =>
    Layer.succeed(Dns, fixedDns(answers))
}

/** `LANGOP_DNS_SERVERS` → server list (empty = system). */
export const parseServers = (text: string): Array<string> =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

type Family = 4 | 6
type FamilyResult =
  | { readonly _tag: "Ok"; readonly addresses: ReadonlyArray<string> }
  | { readonly _tag: "Err"; readonly code: string; readonly message: string }

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : "UNKNOWN"

const queryFamily = (options: DnsOptions, name: string, family: Family): Effect.Effect<FamilyResult> =>
  Effect.callback<FamilyResult>((resume) => {
    const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 })
    const servers = options.servers ?? []
    if (servers.length > 0) resolver.setServers([...servers])
    const done = (error: NodeJS.ErrnoException | null, addresses: Array<string>) =>
      resume(
        Effect.succeed(
          error === null
            ? { _tag: "Ok", addresses }
            : { _tag: "Err", code: codeOf(error), message: error.message },
        ),
      )
    if (family === 4) resolver.resolve4(name, done)
    else resolver.resolve6(name, done)
    return Effect.sync(() => resolver.cancel())
  })

/** Worst case of c-ares itself plus slack; reached only if c-ares misbehaves. */
const backstopMs = (options: DnsOptions): number =>
  (options.timeoutMs ?? 2000) * (options.tries ?? 2) * Math.max(1, options.servers?.length ?? 1) * 2 + 1000

const FAILURE_BY_CODE: Readonly<Record<string, DnsFailureReason>> = {
  ENOTFOUND: "NotFound",
  ENODATA: "NoData",
  ETIMEOUT: "Timeout",
  ECONNREFUSED: "Refused",
  EREFUSED: "Refused",
  ESERVFAIL: "ServerFailure",
}

/** NXDOMAIN wins (the name does not exist), then NoData, then the first family's failure. */
const combine = (v4: FamilyResult, v6: FamilyResult): DnsAnswer => {
  const ok = [v4, v6].flatMap((r) => (r._tag === "Ok" ? r.addresses : []))
  const canonical = [
    ...new Set(
      ok.flatMap((a) => {
        const ip = parseIp(a)
        return ip === undefined ? [] : [formatIp(ip)]
      }),
    ),
  ]
  if (v4._tag === "Ok" || v6._tag === "Ok") {
    if (canonical.length > 0) return { _tag: "Resolved", addresses: sortIps(canonical) }
    return { _tag: "Failed", reason: "NoData", message: "no A or AAAA records" }
  }
  const reasons = [v4, v6].map((r) => (r._tag === "Err" ? (FAILURE_BY_CODE[r.code] ?? "Error") : "Error"))
  const reason: DnsFailureReason = reasons.includes("NotFound")
    ? "NotFound"
    : reasons.includes("NoData") && reasons.every((r) => r === "NoData")
      ? "NoData"
      : (reasons.find((r) => r !== "NoData") ?? "Error")
  return { _tag: "Failed", reason, message: v4._tag === "Err" ? `${v4.code}: ${v4.message}` : "" }
}

const sortIps = (addresses: ReadonlyArray<string>): Array<string> =>
  [...addresses].sort((a, b) => {
    const x = parseIp(a)
    const y = parseIp(b)
    if (x === undefined || y === undefined) return 0
    if (x.family !== y.family) return x.family - y.family
    for (let i = 0; i < x.bytes.length; i++) {
      const d = (x.bytes[i] ?? 0) - (y.bytes[i] ?? 0)
      if (d !== 0) return d
    }
    return 0
  })

export const makeDns = (options: DnsOptions): DnsShape => {
  const resolve = (name: string): Effect.Effect<DnsAnswer> => {
    const key = dnsKey(name)
    return Effect.all([queryFamily(options, key, 4), queryFamily(options, key, 6)], { concurrency: 2 }).pipe(
      Effect.map(([v4, v6]) => combine(v4, v6)),
      Effect.timeoutOrElse({
        duration: Duration.millis(backstopMs(options)),
        orElse: () =>
          Effect.succeed<DnsAnswer>({
            _tag: "Failed",
            reason: "Timeout",
            message: "resolver did not answer",
          }),
      }),
      Effect.withSpan("Dns.resolve", { attributes: { name: key } }),
    )
  }
  const resolveAll = (names: Iterable<string>) => {
    const keys = [...new Set([...names].map(dnsKey))].sort()
    return Effect.forEach(keys, (key) => Effect.map(resolve(key), (answer) => [key, answer] as const), {
      concurrency: 8,
    }).pipe(Effect.map((entries) => new Map(entries)))
  }
  return { resolve, resolveAll }
}

const fixedDns = (answers: Readonly<Record<string, DnsAnswer>>): DnsShape => {
  const resolve = (name: string): Effect.Effect<DnsAnswer> =>
    Effect.succeed(answers[dnsKey(name)] ?? { _tag: "Failed", reason: "NotFound", message: "" })
  return {
    resolve,
    resolveAll: (names) =>
      Effect.forEach([...new Set([...names].map(dnsKey))].sort(), (k) =>
        Effect.map(resolve(k), (a) => [k, a] as const),
      ).pipe(Effect.map((entries) => new Map(entries))),
  }
}
