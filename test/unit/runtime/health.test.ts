import { Effect, Exit, Scope } from "effect"
import { Registry } from "prom-client"
import { describe, expect, it } from "vitest"
import { makeHealth, serveHealth, serveMetrics } from "../../../src/runtime/health.ts"

const withServers = async (
  f: (health: ReturnType<typeof makeHealth>, healthPort: number, metricsPort: number) => Promise<void>,
) => {
  const scope = Effect.runSync(Scope.make())
  const health = makeHealth()
  const registry = new Registry()
  registry.setDefaultLabels({})
  try {
    const h = await Effect.runPromise(
      Scope.provide(serveHealth(health, { host: "127.0.0.1", port: 0 }), scope),
    )
    const m = await Effect.runPromise(
      Scope.provide(serveMetrics(registry, { host: "127.0.0.1", port: 0 }), scope),
    )
    await f(health, h.port, m.port)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

describe("health and metrics servers", () => {
  it("/readyz follows the registered checks; /healthz stays up", async () => {
    await withServers(async (health, port) => {
      let synced = false
      await Effect.runPromise(
        health.addReadinessCheck(
          "informers-synced",
          Effect.sync(() => synced),
        ),
      )
      await Effect.runPromise(health.addReadinessCheck("webhook-certificate", Effect.succeed(true)))
      const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`)
      expect((await get("/healthz")).status).toBe(200)
      const notReady = await get("/readyz?verbose")
      expect(notReady.status).toBe(500)
      expect(await notReady.text()).toContain("[-]informers-synced failed")
      synced = true
      const ready = await get("/readyz")
      expect(ready.status).toBe(200)
      expect(await ready.text()).toBe("ok")
      await Effect.runPromise(health.addReadinessCheck("broken", Effect.die(new Error("boom"))))
      expect((await get("/readyz")).status).toBe(500)
      expect((await get("/other")).status).toBe(404)
    })
  })

  it("/metrics serves the registry in Prometheus text format", async () => {
    await withServers(async (_h, _p, port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type")).toContain("text/plain")
    })
  })
})
