import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Dns, type DnsAnswer, makeDns, parseServers } from "../../../src/network/dns.ts"
import { DnsMemory, resolveEgressNames } from "../../../src/network/memory.ts"
import { dnsTestServer } from "./support/dns-server.ts"

const records = {
  "api.example.com": { a: ["203.0.113.20", "203.0.113.10", "203.0.113.10"], aaaa: ["2001:DB8:0:0:0:0:0:1"] },
  "v4only.example.com": { a: ["198.51.100.7"] },
  "v6only.example.com": { aaaa: ["2001:db8::7"] },
  "empty.example.com": {},
  "broken.example.com": { fail: "servfail" as const },
  "slow.example.com": { fail: "drop" as const },
}

// Queries the local server answers get a timeout no busy machine reaches; only the query it drops times out.
const ANSWERED = 10_000

describe("Dns (real resolver against a local DNS server)", () => {
  it.live("resolves A and AAAA together, canonical, sorted, deduplicated", () =>
    Effect.gen(function* () {
      const server = yield* dnsTestServer(records)
      const dns = makeDns({ servers: [server.server], timeoutMs: ANSWERED, tries: 1 })
      const answer = yield* dns.resolve("API.Example.com.")
      assert.deepStrictEqual(answer, {
        _tag: "Resolved",
        addresses: ["203.0.113.10", "203.0.113.20", "2001:db8::1"],
      })
      assert.includeMembers([...server.queries], ["api.example.com A", "api.example.com AAAA"])
    }),
  )

  it.live("one family is enough; '*.' is stripped and the apex resolved", () =>
    Effect.gen(function* () {
      const server = yield* dnsTestServer(records)
      const dns = makeDns({ servers: [server.server], timeoutMs: ANSWERED, tries: 1 })
      const all = yield* dns.resolveAll(["v4only.example.com", "*.v6only.example.com", "v4only.example.com"])
      assert.deepStrictEqual([...all.keys()], ["v4only.example.com", "v6only.example.com"])
      assert.deepStrictEqual(all.get("v4only.example.com"), { _tag: "Resolved", addresses: ["198.51.100.7"] })
      assert.deepStrictEqual(all.get("v6only.example.com"), { _tag: "Resolved", addresses: ["2001:db8::7"] })
      assert.isFalse(server.queries.some((q) => q.startsWith("*")))
    }),
  )

  it.live("typed failures: NXDOMAIN, no records, server failure, timeout", () =>
    Effect.gen(function* () {
      const server = yield* dnsTestServer(records)
      const reasonsOf = (all: ReadonlyMap<string, DnsAnswer>) =>
        Object.fromEntries([...all].map(([k, v]) => [k, v._tag === "Failed" ? v.reason : "Resolved"]))
      const answering = makeDns({ servers: [server.server], timeoutMs: ANSWERED, tries: 1 })
      const answered = yield* answering.resolveAll([
        "missing.example.com",
        "empty.example.com",
        "broken.example.com",
      ])
      assert.deepStrictEqual(reasonsOf(answered), {
        "broken.example.com": "ServerFailure",
        "empty.example.com": "NoData",
        "missing.example.com": "NotFound",
      })
      // The server drops this query, so any timeout expires: a short one keeps the test quick.
      const impatient = makeDns({ servers: [server.server], timeoutMs: 300, tries: 1 })
      assert.deepStrictEqual(reasonsOf(yield* impatient.resolveAll(["slow.example.com"])), {
        "slow.example.com": "Timeout",
      })
    }),
  )

  it.live("resolveEgressNames keeps an address rotated out within the grace period", () =>
    Effect.gen(function* () {
      const server = yield* dnsTestServer({ "cdn.example.com": { a: ["192.0.2.1"] } })
      const twice = Effect.gen(function* () {
        const first = yield* resolveEgressNames(["cdn.example.com"], 60_000)
        server.setRecords({ "cdn.example.com": { a: ["192.0.2.2"] } })
        const second = yield* resolveEgressNames(["cdn.example.com"], 60_000)
        return [first, second] as const
      })
      const [first, second] = yield* twice.pipe(
        Effect.provide(
          Layer.merge(DnsMemory.layer, Dns.layer({ servers: [server.server], timeoutMs: ANSWERED })),
        ),
      )
      assert.deepStrictEqual(first.get("cdn.example.com"), { _tag: "Resolved", addresses: ["192.0.2.1"] })
      assert.deepStrictEqual(second.get("cdn.example.com"), {
        _tag: "Resolved",
        addresses: ["192.0.2.1", "192.0.2.2"],
      })
    }),
  )
})

describe("Dns helpers", () => {
  it("parses LANGOP_DNS_SERVERS", () => {
    assert.deepStrictEqual(parseServers(""), [])
    assert.deepStrictEqual(parseServers(" 10.0.0.10, [fd00::a]:5353 ,127.0.0.1:53"), [
      "10.0.0.10",
      "[fd00::a]:5353",
      "127.0.0.1:53",
    ])
  })

  it.effect("layerTest answers fixed records and NotFound otherwise", () =>
    Effect.gen(function* () {
      const dns = yield* Dns
      const all = yield* dns.resolveAll(["A.example.com", "b.example.com"])
      assert.deepStrictEqual(all.get("a.example.com"), { _tag: "Resolved", addresses: ["192.0.2.9"] })
      assert.strictEqual(all.get("b.example.com")?._tag, "Failed")
    }).pipe(
      Effect.provide(Dns.layerTest({ "a.example.com": { _tag: "Resolved", addresses: ["192.0.2.9"] } })),
    ),
  )

  it.effect("DnsMemory ages addresses out with the clock", () =>
    Effect.gen(function* () {
      const memory = yield* DnsMemory
      const seen = new Map([["x.example.com", { _tag: "Resolved" as const, addresses: ["192.0.2.1"] }]])
      yield* memory.remember(seen, 1000)
      yield* TestClock.adjust("1 second")
      const failed = new Map([
        ["x.example.com", { _tag: "Failed" as const, reason: "Timeout" as const, message: "" }],
      ])
      assert.deepStrictEqual((yield* memory.remember(failed, 1000)).get("x.example.com"), {
        _tag: "Resolved",
        addresses: ["192.0.2.1"],
      })
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual((yield* memory.remember(failed, 1000)).get("x.example.com")?._tag, "Failed")
      assert.strictEqual((yield* memory.snapshot).names.size, 0)
    }).pipe(Effect.provide(DnsMemory.layer)),
  )
})
