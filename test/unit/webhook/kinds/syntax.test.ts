/** The string-level checks behind the rules (cron: test/unit/domain/cron.test.ts): egress DNS names and CIDRs, Kubernetes names. */
import { describe, expect, it } from "vitest"
import { isCidrOrAddress, isEgressDnsName } from "../../../../src/domain/egress.ts"
import {
  effectiveName,
  isDns1035Label,
  isDns1123Label,
  isLabelValue,
  isQualifiedName,
  quotedList,
} from "../../../../src/domain/names.ts"

describe("egress DNS names", () => {
  it.each([
    "*",
    "api.openai.com",
    "*.example.com",
    "localhost",
    "API.Example.COM",
    "example.com.",
    "xn--bcher-kva.example",
  ])("accepts %s", (name) => expect(isEgressDnsName(name)).toBe(true))
  it.each([
    "",
    "*.*.example.com",
    "*example.com",
    "a.*.com",
    "-a.com",
    "a-.com",
    "a..b",
    "a_b.com",
    "*.",
    `${"a".repeat(64)}.com`,
    "http://x.com",
  ])("rejects %j", (name) => expect(isEgressDnsName(name)).toBe(false))
})

describe("egress CIDRs", () => {
  it.each([
    "10.0.0.0/8",
    "0.0.0.0/0",
    "192.168.1.7",
    "2001:db8::/32",
    "::/0",
    "::1",
    "10.1.2.3/32",
    "fd00::/128",
  ])("accepts %s", (cidr) => expect(isCidrOrAddress(cidr)).toBe(true))
  it.each([
    "",
    "10.0.0.0/33",
    "2001:db8::/129",
    "10.0.0/8",
    "010.0.0.1",
    "10.0.0.0/08",
    "10.0.0.0/",
    "fe80::1%eth0",
    "example.com",
    "10.0.0.0/8/8",
  ])("rejects %j", (cidr) => expect(isCidrOrAddress(cidr)).toBe(false))
})

describe("Kubernetes names", () => {
  it("DNS-1123 and DNS-1035 labels", () => {
    expect([isDns1123Label("9lives"), isDns1035Label("9lives"), isDns1035Label("lives-9")]).toEqual([
      true,
      false,
      true,
    ])
    expect([isDns1123Label("a".repeat(63)), isDns1123Label("a".repeat(64)), isDns1123Label("a.b")]).toEqual([
      true,
      false,
      false,
    ])
  })
  it("label keys and values", () => {
    expect([
      isQualifiedName("app"),
      isQualifiedName("langop.io/kind"),
      isQualifiedName("team/"),
      isQualifiedName("Bad_/x"),
    ]).toEqual([true, true, false, false])
    expect([isLabelValue(""), isLabelValue("a.b_c-d"), isLabelValue("-x"), isLabelValue("a b")]).toEqual([
      true,
      true,
      false,
      false,
    ])
  })
  it("the name of a generateName object counts the API server's 5-character suffix", () => {
    expect(effectiveName({ name: "x" })).toBe("x")
    expect(effectiveName({ generateName: "job-" })).toBe("job-00000")
    expect(effectiveName({ generateName: "g".repeat(70) })?.length).toBe(63)
    expect(effectiveName({})).toBeUndefined()
  })
  it("lists stay short in warnings", () => {
    expect(quotedList(["a"])).toBe('"a"')
    expect(quotedList(["a", "b"])).toBe('"a" and "b"')
    expect(quotedList(["a", "b", "c", "d", "e"])).toBe('"a", "b", "c" and 2 more')
  })
})
