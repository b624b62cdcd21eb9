import { describe, expect, it } from "vitest"
import { compareCidr, parseCidr } from "../../../src/network/ip.ts"
import { classifyName } from "../../../src/network/names.ts"

describe("CIDR parsing and normalisation", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.0.2.5", "192.0.2.5/32"],
    [" 192.0.2.5/32 ", "192.0.2.5/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8::1", "2001:db8::1/128"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["2001:0:0:1:0:0:0:1/128", "2001:0:0:1::1/128"],
    ["2001:db8::ffff/112", "2001:db8::/112"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1/128"],
    ["fe80:0:0:0:0:0:0:0/10", "fe80::/10"],
  ])("%s → %s", (input, expected) => {
    expect(parseCidr(input)?.text).toBe(expected)
  })

  it.each([
    "",
    "10.0.0.0/33",
    "10.0.0/8",
    "010.0.0.1",
    "256.0.0.1",
    "10.0.0.1/08",
    "1:2:3:4:5:6:7:8:9",
    "fe80::1%eth0",
    "2001:db8::/129",
    "::1::",
    "example.com",
    "10.0.0.0/-1",
  ])("rejects %j", (input) => {
    expect(parseCidr(input)).toBeUndefined()
  })

  it("orders IPv4 before IPv6, numerically, then by prefix", () => {
    const sorted = ["2001:db8::1", "10.0.0.0/8", "9.0.0.0/8", "10.0.0.0/16", "::1"]
      .map((t) => parseCidr(t))
      .filter((c) => c !== undefined)
      .sort(compareCidr)
      .map((c) => c.text)
    expect(sorted).toEqual(["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "::1/128", "2001:db8::1/128"])
  })
})

describe("name classification", () => {
  it.each([
    ["*", "Anywhere"],
    ["192.0.2.1", "Address"],
    ["[2001:db8::1]", "Address"],
    ["api.example.com", "External"],
    ["*.example.com", "External"],
    ["example.com", "External"],
    ["svc.ns.svc", "InCluster"],
    ["a.b.svc.cluster.local", "InCluster"],
    ["redis", "InCluster"],
    ["a.b.svc.other.domain", "External"],
    ["*.ns.svc.cluster.local", "Invalid"],
    ["a.b.c.svc.cluster.local", "Invalid"],
    ["cluster.local", "Invalid"],
    ["-bad.example.com", "Invalid"],
    ["*.*.example.com", "Invalid"],
  ])("%s → %s", (name, tag) => {
    expect(classifyName(name, "team-a", "cluster.local")._tag).toBe(tag)
  })
})
