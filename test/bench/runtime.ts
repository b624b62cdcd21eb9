// Runtime benchmark: informer cache memory per object (1k and 10k objects) and work-queue
// throughput. Run through `npm run bench` (adds --expose-gc); prints one JSON document.
//
// Cache memory is measured through the real informer path (list → strip managedFields → store →
// index) with objects shaped like real Deployments (~1.9 kB of JSON each, managedFields included
// as the API server sends them), parsed from JSON so no structure is shared between objects.
import { Effect, Fiber, Option, Stream } from "effect"
import type { KubeClientShape } from "../../src/kube/client.ts"
import type { KubeObject } from "../../src/kube/objects.ts"
import { Builtin } from "../../src/kube/resources.ts"
import { makeInformer } from "../../src/runtime/informer.ts"
import { makeWorkQueue } from "../../src/runtime/queue.ts"

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const heapUsed = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const deploymentJson = (i: number): string =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `agent-${i}`,
      namespace: `team-${i % 50}`,
      uid: `0b7c5d4e-${String(i).padStart(4, "0")}-4c1a-9f0e-3d2b1a0c9e8f`,
      resourceVersion: String(100_000 + i),
      generation: 3,
      creationTimestamp: "2026-01-01T00:00:00Z",
      labels: {
        "app.kubernetes.io/name": `agent-${i}`,
        "app.kubernetes.io/managed-by": "langop-operator",
        "langop.io/kind": "LanguageAgent",
      },
      annotations: {
        "langop.io/config-hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      },
      ownerReferences: [
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguageAgent",
          name: `agent-${i}`,
          uid: `u-${i}`,
          controller: true,
        },
      ],
      managedFields: [
        {
          manager: "langop-operator",
          operation: "Apply",
          apiVersion: "apps/v1",
          time: "2026-01-01T00:00:00Z",
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": { "f:labels": { "f:app.kubernetes.io/name": {}, "f:langop.io/kind": {} } },
            "f:spec": {
              "f:replicas": {},
              "f:selector": {},
              "f:template": { "f:spec": { "f:containers": {} } },
            },
          },
        },
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "apps/v1",
          time: "2026-01-01T00:00:05Z",
          fieldsType: "FieldsV1",
          subresource: "status",
          fieldsV1: { "f:status": { "f:availableReplicas": {}, "f:conditions": {}, "f:replicas": {} } },
        },
      ],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": `agent-${i}` } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": `agent-${i}` } },
        spec: {
          containers: [
            {
              name: "agent",
              image: "ghcr.io/langop/agent:1.0.0",
              env: [
                { name: "AGENT_NAME", value: `agent-${i}` },
                { name: "MODEL_ENDPOINT", value: "http://gpt.team.svc.cluster.local:4000" },
                { name: "LOG_LEVEL", value: "info" },
              ],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
    status: {
      replicas: 1,
      availableReplicas: 1,
      conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }],
    },
  })

const listClient = (items: ReadonlyArray<KubeObject>): KubeClientShape => {
  const unused = () => Effect.die(new Error("unused"))
  return {
    get: unused,
    list: unused,
    create: unused,
    replace: unused,
    apply: unused,
    patch: unused,
    delete: unused,
    listAll: () => Effect.succeed({ items, resourceVersion: "1" }),
    watch: () => Stream.never,
  }
}

const cacheMemory = (n: number) =>
  Effect.gen(function* () {
    const jsonBytes = deploymentJson(0).length
    const before = heapUsed()
    const items = Array.from({ length: n }, (_, i) => JSON.parse(deploymentJson(i)) as KubeObject)
    const informer = yield* makeInformer<KubeObject>(listClient(items), {
      resource: Builtin.Deployment,
      indexers: { byOwner: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.name) },
    })
    const fiber = yield* Effect.forkChild(informer.run)
    yield* informer.waitForSync
    items.length = 0 // only the cache holds objects now
    const after = heapUsed()
    const size = informer.cache.size()
    yield* Fiber.interrupt(fiber)
    return {
      objects: size,
      wireJsonBytesPerObject: jsonBytes,
      heapBytesPerObject: Math.round((after - before) / n),
      heapMiB: Number(((after - before) / 2 ** 20).toFixed(2)),
    }
  })

/** Adds `keys` distinct keys `rounds` times each (dedup path), drains with `workers` no-op workers. */
const queueThroughput = (keys: number, rounds: number, workers: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      let processed = 0
      const worker = Effect.gen(function* () {
        for (;;) {
          const k = yield* q.get
          if (Option.isNone(k)) return
          processed++
          yield* q.done(k.value)
        }
      })
      const t0 = performance.now()
      for (let r = 0; r < rounds; r++) for (let i = 0; i < keys; i++) q.addUnsafe(`ns/obj-${i}`)
      const tAdded = performance.now()
      const fibers = yield* Effect.forEach(Array.from({ length: workers }), () => Effect.forkChild(worker))
      while (q.len() > 0 || q.processing() > 0) yield* Effect.yieldNow
      const tDrained = performance.now()
      yield* q.shutdown
      yield* Fiber.joinAll(fibers)
      return {
        keys,
        addsPerKey: rounds,
        workers,
        processed,
        addsPerSecond: Math.round((keys * rounds) / ((tAdded - t0) / 1000)),
        reconcilesPerSecond: Math.round(processed / ((tDrained - tAdded) / 1000)),
      }
    }),
  )

const main = Effect.gen(function* () {
  const mem1k = yield* cacheMemory(1_000)
  const mem10k = yield* cacheMemory(10_000)
  const queueUnique = yield* queueThroughput(100_000, 1, 4)
  const queueDedup = yield* queueThroughput(1_000, 100, 4)
  return {
    gcExposed: (globalThis as { gc?: unknown }).gc !== undefined,
    cacheMemory: { "1k": mem1k, "10k": mem10k },
    queue: { unique: queueUnique, dedup: queueDedup },
  }
})

Effect.runPromise(main).then(
  (r) => console.log(JSON.stringify(r)),
  (e: unknown) => {
    console.error(e)
    process.exitCode = 1
  },
)
