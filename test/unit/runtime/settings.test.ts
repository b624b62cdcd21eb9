import { Duration, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import {
  concurrencyFor,
  parseBindAddress,
  parseGoDuration,
  settingsFrom,
  settingsMarkdown,
  settingsTable,
  watchNamespacesOf,
} from "../../../src/settings.ts"

const read = (env: Record<string, string>) => Effect.runSync(settingsFrom(env))

describe("settings", () => {
  it("has a documented default for everything", () => {
    const s = read({})
    expect(Duration.toMillis(s.leaseDuration)).toBe(15_000)
    expect(Duration.toMillis(s.renewDeadline)).toBe(10_000)
    expect(Duration.toMillis(s.retryPeriod)).toBe(2_000)
    expect(Duration.toMillis(s.dnsRefreshInterval)).toBe(300_000)
    expect(Duration.toMillis(s.dependencyWaitRequeue)).toBe(10_000)
    expect(s.metricsBindAddress).toEqual({ host: "127.0.0.1", port: 8080 })
    expect(s.healthProbeBindAddress).toEqual({ host: "127.0.0.1", port: 8081 })
    expect(s.fieldManager).toBe("langop-operator")
    expect(s.clusterDomain).toBe("cluster.local")
    expect(s.webhookPort).toBe(9443)
    expect(s.logLevel).toBe("info")
    expect(s.podName).toBeUndefined()
    expect(settingsTable.map((r) => r.name).sort()).toEqual(Object.keys(s).sort())
    for (const row of settingsTable) expect(row.description.length).toBeGreaterThan(20)
    expect(settingsTable.find((r) => r.name === "leaseDuration")).toMatchObject({
      env: "LANGOP_LEASE_DURATION",
      default: "15s",
    })
    expect(settingsMarkdown()).toContain("| `LANGOP_FIELD_MANAGER` | `langop-operator` |")
  })

  it("reads overrides in the formats operators write", () => {
    const s = read({
      LANGOP_LEASE_DURATION: "1m30s",
      LANGOP_METRICS_BIND_ADDRESS: ":8080",
      LANGOP_HEALTH_PROBE_BIND_ADDRESS: "0",
      LANGOP_LOG_LEVEL: "debug",
      LANGOP_CONCURRENCY_OVERRIDES: "languageagent=10, languagetool=2",
      LANGOP_WATCH_NAMESPACES: "a, b,",
      POD_NAME: "op-0",
    })
    expect(Duration.toMillis(s.leaseDuration)).toBe(90_000)
    expect(s.metricsBindAddress).toEqual({ host: "0.0.0.0", port: 8080 })
    expect(s.healthProbeBindAddress).toBeUndefined()
    expect(s.logLevel).toBe("debug")
    expect(concurrencyFor(s, "languageagent")).toBe(10)
    expect(concurrencyFor(s, "languagemodel")).toBe(5)
    expect(watchNamespacesOf(s)).toEqual(["a", "b"])
    expect(s.podName).toBe("op-0")
  })

  it("rejects malformed values instead of falling back to the default", () => {
    for (const env of [
      { LANGOP_LEASE_DURATION: "15" },
      { LANGOP_LOG_LEVEL: "verbose" },
      { LANGOP_WEBHOOK_PORT: "x" },
      { LANGOP_METRICS_BIND_ADDRESS: "localhost" },
      { LANGOP_LEADER_ELECT: "maybe" },
    ]) {
      expect(Exit.isFailure(Effect.runSyncExit(settingsFrom(env))), JSON.stringify(env)).toBe(true)
    }
  })

  it("parses Go durations and bind addresses", () => {
    expect(parseGoDuration("500ms")).toBe(500)
    expect(parseGoDuration("2h5m")).toBe(7_500_000)
    expect(parseGoDuration("1.5s")).toBe(1500)
    expect(parseBindAddress("[::1]:9090")).toEqual({ host: "::1", port: 9090 })
  })
})
