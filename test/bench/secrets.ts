// Secrets benchmark: how much resident memory 10,000 Secrets of 10 KB each add to the operator's
// Secret informer, with their values kept (the informer source without a transform: the behaviour
// before values were dropped) and with the operator's own source (values dropped on ingest).
//
// Each figure comes from a fresh Node process (this file re-run with a mode argument), so one
// measurement cannot inherit another's heap: the Secret informer is built exactly as the operator
// builds it (the real KubeClient and HTTP transport, against a server in the parent process that
// answers the list in JSON pages of 500 as the API server does), synced, then RSS and heap are read
// after full GCs. `addedMiB` = mode - baseline (no
// Secrets in the cluster). Run through `npm run bench` (adds --expose-gc); prints one JSON document.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import { fileURLToPath } from "node:url"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Fiber } from "effect"
import { makeKubeClient } from "../../src/kube/client.ts"
import type { KubeObject } from "../../src/kube/objects.ts"
import { Builtin } from "../../src/kube/resources.ts"
import { makeTransport } from "../../src/kube/transport.ts"
import { type InformerSource, makeInformer } from "../../src/runtime/informer.ts"
import { secretSource } from "../../src/runtime/sources.ts"

const SECRETS = 10_000
const VALUE_BYTES = 10 * 1024
const MiB = 2 ** 20

type Mode = "baseline" | "values" | "stripped"

/** One random 10 KB value, made unique per Secret by a prefix (JSON.parse gives each its own string). */
const VALUE = randomBytes(VALUE_BYTES).toString("base64")
const secretValue = (i: number): string => `${String(i).padStart(8, "0")}${VALUE.slice(8)}`

const secretJson = (i: number): string =>
  JSON.stringify({
    metadata: {
      name: `credentials-${i}`,
      namespace: `team-${i % 50}`,
      uid: `0b7c5d4e-${String(i).padStart(5, "0")}-4c1a-9f0e-3d2b1a0c9e8f`,
      resourceVersion: String(200_000 + i),
      creationTimestamp: "2026-01-01T00:00:00Z",
      labels: { "app.kubernetes.io/name": `app-${i % 200}` },
      managedFields: [
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          apiVersion: "v1",
          time: "2026-01-01T00:00:00Z",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:data": { ".": {}, "f:api-key": {} }, "f:type": {} },
        },
      ],
    },
    type: "Opaque",
    data: { "api-key": secretValue(i) },
  })

/**
 * The API server's side, in the parent process (so producing the pages costs the measured process
 * nothing): the Secret list in pages of `limit` (continue token = next index); watches stay open.
 */
const serveSecrets = (count: number): Promise<Server> =>
  new Promise((resolve) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1")
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "content-type": "application/json" })
        res.flushHeaders()
        return
      }
      const from = Number(url.searchParams.get("continue") ?? 0)
      const limit = Number(url.searchParams.get("limit") ?? 500)
      const to = Math.min(count, from + limit)
      const items: Array<string> = []
      for (let i = from; i < to; i++) items.push(secretJson(i))
      const cont = to < count ? `,"continue":"${to}"` : ""
      res.writeHead(200, { "content-type": "application/json" })
      res.end(
        `{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"300000"${cont}},"items":[${items.join(",")}]}`,
      )
    })
    server.listen(0, "127.0.0.1", () => resolve(server))
  })

const settleMemory = async () => {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
  for (let i = 0; i < 4; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** One measurement, in this process. */
const measure = (mode: Mode, server: string) =>
  Effect.gen(function* () {
    const source: InformerSource<KubeObject> =
      mode === "stripped" ? secretSource : { resource: Builtin.Secret }
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: "bench", server, skipTLSVerify: true }],
      users: [{ name: "bench" }],
      contexts: [{ name: "bench", cluster: "bench", user: "bench" }],
      currentContext: "bench",
    })
    const client = makeKubeClient(yield* makeTransport(kc))
    const informer = yield* makeInformer<KubeObject>(client, source)
    const fiber = yield* Effect.forkChild(informer.run)
    yield* informer.waitForSync
    yield* Effect.promise(settleMemory)
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
    const cached = informer.cache.list()
    const withValues = cached.filter((o) =>
      Object.values((o as { data?: Record<string, string> }).data ?? {}).some((v) => v !== ""),
    ).length
    yield* Fiber.interrupt(fiber)
    return {
      mode,
      secrets: cached.length,
      secretsWithValuesInCache: withValues,
      rss,
      heapUsed,
      heapTotal,
      external,
    }
  })

type Measured = Effect.Success<ReturnType<typeof measure>>

const inChild = async (mode: Mode): Promise<Measured> => {
  const server = await serveSecrets(mode === "baseline" ? 0 : SECRETS)
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), mode, url], {
    stdio: ["ignore", "pipe", "inherit"],
  })
  let out = ""
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    out += c
  })
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
  server.closeAllConnections()
  server.close()
  if (code !== 0) throw new Error(`the ${mode} measurement failed (exit ${String(code)})`)
  return JSON.parse(out.trim().split("\n").pop() ?? "") as Measured
}

const mib = (bytes: number) => Number((bytes / MiB).toFixed(1))

const main = async () => {
  const baseline = await inChild("baseline")
  const values = await inChild("values")
  const stripped = await inChild("stripped")
  if (stripped.secretsWithValuesInCache !== 0 || stripped.secrets !== SECRETS)
    throw new Error(`the operator's Secret cache holds values: ${JSON.stringify(stripped)}`)
  const added = (m: Measured) => ({
    rssMiB: mib(m.rss),
    heapUsedMiB: mib(m.heapUsed),
    addedRssMiB: mib(m.rss - baseline.rss),
    addedHeapMiB: mib(m.heapUsed - baseline.heapUsed),
    addedHeapCommittedMiB: mib(m.heapTotal - baseline.heapTotal),
    addedExternalMiB: mib(m.external - baseline.external),
  })
  return {
    gcExposed: (globalThis as { gc?: unknown }).gc !== undefined,
    secrets: SECRETS,
    valueBytesPerSecret: VALUE_BYTES,
    baseline: { rssMiB: mib(baseline.rss), heapUsedMiB: mib(baseline.heapUsed) },
    valuesKept: added(values),
    valuesDropped: added(stripped),
    goalAddedRssMiB: 15,
  }
}

const [mode, server] = process.argv.slice(2) as [Mode | undefined, string | undefined]
if (mode === undefined || server === undefined) {
  main().then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e)
      process.exitCode = 1
    },
  )
} else {
  Effect.runPromise(Effect.scoped(measure(mode, server))).then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e)
      process.exitCode = 1
    },
  )
}
