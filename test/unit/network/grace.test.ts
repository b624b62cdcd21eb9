import { describe, expect, it } from "vitest"
import {
  addressesWithin,
  emptyGraceMemory,
  pruneMemory,
  rememberAnswers,
  withGrace,
} from "../../../src/network/grace.ts"
import { answer } from "./fixtures.ts"

const GRACE = 300_000
const at = (minutes: number) => minutes * 60_000
const answers = (entries: Record<string, Parameters<typeof answer>[0]>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, answer(v)]))

describe("grace-period memory", () => {
  it("unions addresses seen within the grace period, sorted and canonical", () => {
    const first = withGrace(
      emptyGraceMemory,
      answers({ "cdn.example.com": ["192.0.2.2", "2001:DB8::1"] }),
      at(0),
      GRACE,
    )
    const second = withGrace(first.memory, answers({ "cdn.example.com": ["192.0.2.1"] }), at(5), GRACE)
    expect(second.answers.get("cdn.example.com")).toEqual({
      _tag: "Resolved",
      addresses: ["192.0.2.1", "192.0.2.2", "2001:db8::1"],
    })
    // One more refresh without 192.0.2.2 / 2001:db8::1: they are older than the grace period now.
    const third = withGrace(second.memory, answers({ "cdn.example.com": ["192.0.2.1"] }), at(10) + 1, GRACE)
    expect(third.answers.get("cdn.example.com")).toEqual({ _tag: "Resolved", addresses: ["192.0.2.1"] })
  })

  it("a failed lookup keeps recent addresses, then shows once they aged out", () => {
    const seen = withGrace(emptyGraceMemory, answers({ "api.example.com": ["198.51.100.4"] }), at(0), GRACE)
    const timedOut = withGrace(seen.memory, answers({ "api.example.com": "Timeout" }), at(3), GRACE)
    expect(timedOut.answers.get("api.example.com")).toEqual({ _tag: "Resolved", addresses: ["198.51.100.4"] })
    const later = withGrace(timedOut.memory, answers({ "api.example.com": "Timeout" }), at(6), GRACE)
    expect(later.answers.get("api.example.com")).toEqual(answer("Timeout"))
  })

  it("boundary is inclusive: an answer exactly one interval old is still used", () => {
    const memory = rememberAnswers(emptyGraceMemory, answers({ a: ["192.0.2.1"] }), at(0))
    expect(addressesWithin(memory, "a", GRACE, GRACE)).toEqual(["192.0.2.1"])
    expect(addressesWithin(memory, "a", GRACE + 1, GRACE)).toEqual([])
  })

  it("is immutable and prunes names nobody resolved for a whole period", () => {
    const memory = rememberAnswers(emptyGraceMemory, answers({ a: ["192.0.2.1"], b: ["192.0.2.2"] }), at(0))
    const touched = rememberAnswers(memory, answers({ b: ["192.0.2.3"] }), at(4))
    expect(emptyGraceMemory.names.size).toBe(0)
    expect(memory.names.get("b")?.size).toBe(1)
    const pruned = pruneMemory(touched, at(6), GRACE)
    expect([...pruned.names.keys()]).toEqual(["b"])
    expect([...(pruned.names.get("b")?.keys() ?? [])]).toEqual(["192.0.2.3"])
  })

  it("names only in memory are not invented into the answers", () => {
    const memory = rememberAnswers(emptyGraceMemory, answers({ a: ["192.0.2.1"] }), at(0))
    expect([...withGrace(memory, answers({ b: ["192.0.2.9"] }), at(1), GRACE).answers.keys()]).toEqual(["b"])
  })
})
