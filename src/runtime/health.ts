// Health probes (`/healthz`, `/readyz`) and the Prometheus endpoint (`/metrics`) on node:http.
//
// Why node:http and not effect/http: three fixed GET routes with no bodies to decode; the plain
// server is smaller, starts faster and has no per-request Effect runtime cost. Both servers bind
// 127.0.0.1 unless a setting says otherwise, and close with the enclosing scope.
//
// Guarantees: `/readyz` is 200 only when every registered readiness check passes (the manager
// registers "informers synced"; the webhook registers "certificate loaded"); a check that throws,
// fails or takes over 5 s counts as failing. `/healthz` is 200 while the process serves requests
// plus every registered liveness check passes. `?verbose` lists each check, as the API server does.
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer, type Scope } from "effect"
import type { Registry } from "prom-client"
import type { BindAddress } from "../settings.ts"

/** A check: succeeds with true (or void) when healthy. Must not need any service. */
// biome-ignore lint/suspicious/noConfusingVoidType: an Effect.gen without `return` yields void
export type Check = Effect.Effect<boolean | undefined | void, unknown>

export interface HealthShape {
  readonly addReadinessCheck: (name: string, check: Check) => Effect.Effect<void>
  readonly addLivenessCheck: (name: string, check: Check) => Effect.Effect<void>
  /** Evaluates the checks (what the endpoints serve). */
  readonly evaluate: (kind: "ready" | "live") => Effect.Effect<ReadonlyArray<{ name: string; ok: boolean }>>
}

export class Health extends Context.Service<Health, HealthShape>()("langop/Health") {
  static readonly layer: Layer.Layer<Health> = Layer.sync(Health, () => makeHealth())
}

export const makeHealth = (): HealthShape => {
  const ready = new Map<string, Check>()
  const live = new Map<string, Check>()
  const run = (check: Check) =>
    check.pipe(
      Effect.map((r) => r !== false),
      Effect.timeoutOption("5 seconds"),
      Effect.map((o) => o._tag === "Some" && o.value),
      Effect.catchCause(() => Effect.succeed(false)),
    )
  return {
    addReadinessCheck: (name, check) => Effect.sync(() => void ready.set(name, check)),
    addLivenessCheck: (name, check) => Effect.sync(() => void live.set(name, check)),
    evaluate: (kind) =>
      Effect.forEach([...(kind === "ready" ? ready : live)], ([name, check]) =>
        Effect.map(run(check), (ok) => ({ name, ok })),
      ),
  }
}

export interface ServerHandle {
  readonly port: number
}

/** Listens on `bind` for the scope's lifetime; fails startup (defect) if the port is taken. */
const listen = (
  bind: BindAddress,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Effect.Effect<ServerHandle, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<http.Server>((resume) => {
      const server = http.createServer(handler)
      server.once("error", (e) => resume(Effect.die(e)))
      server.listen(bind.port, bind.host, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      }),
  ).pipe(Effect.map((server) => ({ port: (server.address() as AddressInfo).port })))

const report = (results: ReadonlyArray<{ name: string; ok: boolean }>, verbose: boolean) => {
  const ok = results.every((r) => r.ok)
  if (!verbose && ok) return { ok, body: "ok" }
  const lines = results.map((r) => `[${r.ok ? "+" : "-"}]${r.name} ${r.ok ? "ok" : "failed"}`)
  return { ok, body: `${lines.join("\n")}\n${ok ? "healthz check passed" : "healthz check failed"}\n` }
}

/** Serves /healthz, /livez and /readyz. */
export const serveHealth = (
  health: HealthShape,
  bind: BindAddress,
): Effect.Effect<ServerHandle, never, Scope.Scope> =>
  listen(bind, (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    const kind =
      url.pathname === "/readyz"
        ? "ready"
        : url.pathname === "/healthz" || url.pathname === "/livez"
          ? "live"
          : undefined
    if (kind === undefined || req.method !== "GET") {
      res.writeHead(404).end()
      return
    }
    Effect.runFork(
      Effect.map(health.evaluate(kind), (results) => {
        const r = report(results, url.searchParams.has("verbose"))
        res.writeHead(r.ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8" }).end(r.body)
      }),
    )
  })

/** Serves the registry on /metrics. */
export const serveMetrics = (
  registry: Registry,
  bind: BindAddress,
): Effect.Effect<ServerHandle, never, Scope.Scope> =>
  listen(bind, (req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end()
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500).end(String(e)),
    )
  })
