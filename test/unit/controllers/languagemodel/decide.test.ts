import { describe, expect, it } from "vitest"
import type { LanguageModelStatus } from "../../../../src/api/languagemodel.ts"
import {
  decide,
  healthPollIntervalMs,
  healthPollTimeoutMs,
} from "../../../../src/controllers/languagemodel/decide.ts"
import { featuresCondition, resolveFallbacks } from "../../../../src/controllers/languagemodel/fallbacks.ts"
import type { ModelDecision, ModelInput, ModelPeer } from "../../../../src/controllers/languagemodel/input.ts"
import { availableDeployment, input, LATER, model, NOW, settings, spec, UID } from "./fixtures.ts"

const condition = (d: ModelDecision, type: string) => d.status?.conditions?.find((c) => c.type === type)
const summary = (d: ModelDecision) => ({
  phase: d.status?.phase,
  ready: `${condition(d, "Ready")?.status}/${condition(d, "Ready")?.reason}`,
  healthy: d.status?.healthy,
})
const peers = (entries: Record<string, ReadonlyArray<string>>): ReadonlyMap<string, ModelPeer> =>
  new Map(
    Object.entries(entries).map(([name, fallbacks]) => [name, { modelName: `${name}-model`, fallbacks }]),
  )
const secret = (keys: ReadonlyArray<string> = ["api-key"], resourceVersion = "7") => ({
  resourceVersion,
  keys,
})
const foreign = {
  metadata: { ownerReferences: [{ controller: true, uid: "other", kind: "LanguageAgent", name: "m" }] },
}

describe("reconcile sequence", () => {
  it("deleted: clean up the ConfigMap and remove the finalizer, nothing else", () => {
    const d = decide(input({ model: model({}, { deletionTimestamp: NOW }) }))
    expect(d).toMatchObject({
      finalizer: "remove",
      cleanup: { configMap: "m-model" },
      children: [],
      status: undefined,
    })
    const gone = decide(input({ model: model({}, { deletionTimestamp: NOW, finalizers: ["other"] }) }))
    expect(gone).toMatchObject({ finalizer: undefined, cleanup: undefined })
  })

  it("adds the finalizer when missing", () => {
    expect(decide(input({ model: model({}, { finalizers: [] }) })).finalizer).toBe("add")
    expect(decide(input()).finalizer).toBeUndefined()
  })

  it.each([
    ["InvalidName", model({}, { name: "Bad_Name" })],
    ["InvalidSpec", model({ provider: "openai-compatible" })],
    ["InvalidSpec", model({ configuration: { temperature: 3 } })],
  ])("%s stops before any child is written", (reason, m) => {
    const d = decide(input({ model: m }))
    expect(summary(d)).toEqual({ phase: "Error", ready: `False/${reason}`, healthy: false })
    expect(d.children).toEqual([])
    expect(condition(d, "ProxyConfigured")).toMatchObject({ status: "False", reason: "RenderError" })
    expect(condition(d, "Reconciled")).toMatchObject({ status: "False", reason: "ReconcileError" })
    expect(d.requeueAfterMs).toBeUndefined()
  })

  it.each([
    ["CrossNamespaceSecretUnsupported", { name: "s", namespace: "elsewhere" }, secret(), undefined],
    ["SecretNotFound", { name: "s" }, undefined, 10_000],
    ["SecretKeyNotFound", { name: "s", key: "token" }, secret(["api-key"]), 10_000],
  ])("%s: Error, no children, requeue %s", (reason, ref, found, requeue) => {
    const d = decide(input({ model: model({ apiKeySecretRef: ref }), apiKeySecret: found }))
    expect(summary(d)).toEqual({ phase: "Error", ready: `False/${reason}`, healthy: false })
    expect(d.children).toEqual([])
    expect(d.requeueAfterMs).toBe(requeue)
  })

  it("the Secret in the model's own namespace, written explicitly, is fine", () => {
    const d = decide(
      input({ model: model({ apiKeySecretRef: { name: "s", namespace: "ns" } }), apiKeySecret: secret() }),
    )
    expect(d.status?.phase).toBe("Ready")
  })

  it("bedrock does not need the key inside its Secret (envFrom, docs/languagemodel.md LM-5)", () => {
    const d = decide(
      input({
        model: model({ provider: "bedrock", apiKeySecretRef: { name: "aws" } }),
        apiKeySecret: secret(["AWS_ACCESS_KEY_ID"]),
      }),
    )
    expect(d.status?.phase).toBe("Ready")
  })

  it("applies ConfigMap, Deployment and Service, owned by the model; Ready when available", () => {
    const d = decide(input({ model: model({ apiKeySecretRef: { name: "s" } }), apiKeySecret: secret() }))
    expect(
      d.children.map((c) => (c._tag === "Apply" ? `${c.object.kind}/${c.object.metadata.name}` : c._tag)),
    ).toEqual(["ConfigMap/m-model", "Deployment/m", "Service/m"])
    for (const c of d.children)
      if (c._tag === "Apply") expect(c.object.metadata.ownerReferences[0]?.uid).toBe(UID)
    expect(d.rendered?.text).toContain("os.environ/LANGOP_MODEL_API_KEY")
    expect(summary(d)).toEqual({ phase: "Ready", ready: "True/ReconcileSuccess", healthy: true })
    expect(d.status).toMatchObject({
      observedGeneration: 3,
      message: "Model proxy is ready",
      reason: "ReconcileSuccess",
    })
    expect(d.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      "FeaturesSupported=True/AllSupported",
      "ProxyAvailable=True/Available",
      "ProxyConfigured=True/Rendered",
      "Ready=True/ReconcileSuccess",
      "Reconciled=True/ReconcileSuccess",
    ])
  })

  it("the config hash follows the Secret's resourceVersion", () => {
    const hash = (rv: string) => {
      const d = decide(
        input({ model: model({ apiKeySecretRef: { name: "s" } }), apiKeySecret: secret(["api-key"], rv) }),
      )
      const dep = d.children[1]
      return dep?._tag === "Apply" && dep.object.kind === "Deployment"
        ? dep.object.spec.template.metadata.annotations["langop.io/config-hash"]
        : undefined
    }
    expect(hash("1")).not.toBe(hash("2"))
  })

  it.each([
    ["configMap", "ConfigMap"],
    ["deployment", "Deployment"],
    ["service", "Service"],
  ])(
    "NameConflict when the live %s is controlled by someone else; the others are still applied",
    (key, kind) => {
      const d = decide(input({ live: { [key]: foreign } }))
      expect(summary(d)).toEqual({ phase: "Error", ready: "False/NameConflict", healthy: false })
      expect(
        d.children.filter((c) => c._tag === "Conflict").map((c) => c._tag === "Conflict" && c.kind),
      ).toEqual([kind])
      expect(d.children.filter((c) => c._tag === "Apply")).toHaveLength(2)
    },
  )

  it("adopts unowned children and keeps its own", () => {
    const ours = {
      metadata: { ownerReferences: [{ controller: true, uid: UID, kind: "LanguageModel", name: "m" }] },
    }
    const d = decide(input({ live: { configMap: { metadata: {} }, deployment: ours } }))
    expect(d.children.every((c) => c._tag === "Apply")).toBe(true)
  })

  it.each([
    ["ConfigMap", "ConfigMapError"],
    ["Deployment", "DeploymentError"],
    ["Service", "ServiceError"],
    ["NetworkPolicy", "NetworkPolicyError"],
  ] as const)("a failed %s apply → Error %s", (kind, reason) => {
    const d = decide(input(), { _tag: "Failed", kind, message: "boom" })
    expect(summary(d)).toEqual({ phase: "Error", ready: `False/${reason}`, healthy: false })
    expect(condition(d, "Reconciled")).toMatchObject({
      status: "False",
      reason: "ReconcileError",
      message: "boom",
    })
  })
})

describe("phase from the proxy's observed state", () => {
  it.each([
    ["no Deployment yet", undefined, [], "Configuring", "Progressing"],
    ["no available replica", { status: { availableReplicas: 0 } }, [], "Configuring", "Progressing"],
    [
      "crash-looping",
      { status: {} },
      [{ pod: "m-1", container: "proxy", reason: "CrashLoopBackOff", message: "back-off" }],
      "NotReady",
      "PodsFailing",
    ],
    [
      "image pull failing",
      { status: {} },
      [{ pod: "m-1", container: "proxy", reason: "ImagePullBackOff" }],
      "NotReady",
      "PodsFailing",
    ],
    [
      "container config error (missing Secret key)",
      { status: {} },
      [{ pod: "m-1", container: "proxy", reason: "CreateContainerConfigError" }],
      "NotReady",
      "PodsFailing",
    ],
    [
      "only starting",
      { status: {} },
      [{ pod: "m-1", container: "proxy", reason: "ContainerCreating" }],
      "Configuring",
      "Progressing",
    ],
    [
      "progress deadline exceeded",
      {
        status: {
          conditions: [
            {
              type: "Progressing",
              status: "False",
              reason: "ProgressDeadlineExceeded",
              message: "timed out",
            },
          ],
        },
      },
      [],
      "NotReady",
      "PodsFailing",
    ],
    [
      "available despite an old failing pod",
      availableDeployment,
      [{ pod: "m-2", container: "proxy", reason: "CrashLoopBackOff" }],
      "Ready",
      "Available",
    ],
  ])("%s → %s", (_, deployment, podProblems, phase, availability) => {
    const d = decide(input({ deployment, podProblems }))
    expect(d.status?.phase).toBe(phase)
    expect(condition(d, "ProxyAvailable")?.reason).toBe(availability)
    expect(d.status?.healthy).toBe(phase === "Ready")
    if (phase !== "Ready")
      expect(condition(d, "Ready")).toMatchObject({ status: "False", reason: "ProxyNotAvailable" })
  })

  it("pod failure messages name the pod, container and reason", () => {
    const d = decide(
      input({
        deployment: { status: {} },
        podProblems: [{ pod: "m-1", container: "proxy", reason: "ErrImagePull", message: "not found" }],
      }),
    )
    expect(condition(d, "ProxyAvailable")?.message).toBe("pod m-1 container proxy: ErrImagePull: not found")
  })
})

describe("fallbacks", () => {
  const fb = (...refs: ReadonlyArray<string | { modelRef: string; conditions: ReadonlyArray<string> }>) =>
    spec({ fallbacks: refs.map((r) => (typeof r === "string" ? { modelRef: r } : r)) })

  it("resolves existing models in order with their model names and this entry's conditions", () => {
    const r = resolveFallbacks(
      "m",
      fb({ modelRef: "b", conditions: ["timeout"] }, "a"),
      peers({ a: [], b: [] }),
    )
    expect(r.resolved).toEqual([
      { modelRef: "b", modelName: "b-model", conditions: ["timeout"] },
      { modelRef: "a", modelName: "a-model", conditions: [] },
    ])
    expect(r.issues).toEqual([])
  })

  it.each([
    ["missing", fb("ghost"), peers({}), ["FallbackNotFound"]],
    ["self", fb("m"), peers({ m: ["m"] }), ["FallbackCycle"]],
    ["two-model cycle", fb("a"), peers({ a: ["m"] }), ["FallbackCycle"]],
    ["longer cycle", fb("a"), peers({ a: ["b"], b: ["c"], c: ["m"] }), ["FallbackCycle"]],
    ["chain without cycle", fb("a"), peers({ a: ["b"], b: [] }), []],
    ["chain through a missing model", fb("a"), peers({ a: ["ghost"] }), []],
  ])("%s", (_, s, models, issues) => {
    expect(resolveFallbacks("m", s, models).issues.map((i) => i.reason)).toEqual(issues)
  })

  it("a repeated modelRef is merged into its first entry", () => {
    const r = resolveFallbacks(
      "m",
      fb({ modelRef: "a", conditions: ["error"] }, { modelRef: "a", conditions: ["context_window"] }),
      peers({ a: [] }),
    )
    expect(r.resolved).toEqual([
      { modelRef: "a", modelName: "a-model", conditions: ["error", "context_window"] },
    ])
  })

  it("a missing fallback degrades but does not block; resolved ones are rendered", () => {
    const d = decide(
      input({
        model: model({ fallbacks: [{ modelRef: "ghost" }, { modelRef: "a" }] }),
        models: peers({ a: [] }),
      }),
    )
    expect(summary(d)).toEqual({ phase: "Degraded", ready: "True/ReconcileSuccess", healthy: true })
    expect(condition(d, "FeaturesSupported")).toMatchObject({ status: "False", reason: "FallbackNotFound" })
    expect(d.rendered?.text).toContain('"fallback/a"')
    expect(d.rendered?.text).not.toContain("ghost")
    expect(d.status?.message).toBe(
      "Model proxy is ready; degraded: fallback LanguageModel ghost not found; skipped",
    )
  })
})

describe("FeaturesSupported", () => {
  it("most important reason first, every message listed", () => {
    expect(
      featuresCondition([
        { reason: "PartiallySupported", message: "p" },
        { reason: "CacheBackendUnsupported", message: "c" },
        { reason: "FallbackCycle", message: "f" },
      ]),
    ).toEqual({ type: "FeaturesSupported", status: "False", reason: "FallbackCycle", message: "p; c; f" })
  })

  it.each([
    [{ caching: { enabled: true, backend: "memcached" } }, {}, "CacheBackendUnsupported"],
    [{ caching: { enabled: true, backend: "redis" } }, {}, "CacheBackendUnavailable"],
    [{ regions: [{ name: "us" }] }, {}, "RegionNotRepresentable"],
    [{ observability: { tracing: true } }, {}, "TracingUnavailable"],
    [{ caching: { enabled: true, maxSize: 10 } }, {}, "PartiallySupported"],
  ])("%j → Degraded %s", (fields, over, reason) => {
    const d = decide(input({ model: model(fields), settings: settings(over) }))
    expect(d.status?.phase).toBe("Degraded")
    expect(condition(d, "FeaturesSupported")?.reason).toBe(reason)
  })

  it("shared Redis with its password Secret present renders redis; absent password Secret degrades", () => {
    const s = settings({
      sharedRedis: { host: "redis", port: 6379, passwordSecret: { name: "redis", key: "pw" } },
    })
    const m = model({ caching: { enabled: true, backend: "redis" } })
    const ok = decide(input({ model: m, settings: s, redisPasswordSecret: secret(["pw"], "4") }))
    expect(ok.status?.phase).toBe("Ready")
    expect(ok.rendered?.cache).toBe("redis")
    const missing = decide(input({ model: m, settings: s }))
    expect(condition(missing, "FeaturesSupported")?.reason).toBe("CacheBackendUnavailable")
    expect(missing.rendered?.cache).toBe("local")
  })

  it("network conditions from src/network are passed through", () => {
    const network = [
      { type: "NetworkPolicyReady", status: "True" as const, reason: "Applied", message: "ok" },
      { type: "EgressResolved", status: "True" as const, reason: "Resolved", message: "ok" },
    ]
    const d = decide(input({ network }))
    expect(condition(d, "EgressResolved")?.reason).toBe("Resolved")
    expect(condition(d, "NetworkPolicyReady")?.status).toBe("True")
  })
})

describe("health polling, metrics and cost", () => {
  const lb = {
    loadBalancing: {
      endpoints: [{ url: "http://a" }, { url: "http://b" }],
      healthCheck: { enabled: true, interval: "10s" },
    },
    regions: [
      { name: "west", endpoint: "http://w" },
      { name: "off", endpoint: "http://o", enabled: false },
    ],
  }
  const polling = settings({ healthPolling: true })
  const poll = (healthy: ReadonlyArray<string>, time = NOW) => ({
    time,
    healthy: healthy.map((u) => ({
      apiBase: u,
      latencyMs: 12.4,
      regionName: u === "http://w" ? "west" : undefined,
    })),
    unhealthy: [],
  })

  it("endpoint and region health from a poll; unhealthy endpoints degrade", () => {
    const d = decide(input({ model: model(lb), settings: polling, health: poll(["http://a", "http://w"]) }))
    expect(d.status?.endpointStatus).toEqual([
      { url: "http://a", healthy: true, lastCheck: NOW, failureCount: 0, latency: 12 },
      { url: "http://b", healthy: false, lastCheck: NOW, failureCount: 1 },
    ])
    expect(d.status?.regionStatus).toEqual([{ name: "west", available: true, lastCheck: NOW, latency: 12 }])
    expect(d.status?.lastHealthCheck).toBe(NOW)
    expect(summary(d)).toEqual({ phase: "Degraded", ready: "True/ReconcileSuccess", healthy: true })
    expect(d.requeueAfterMs).toBe(30_000)
  })

  it("an unavailable region degrades", () => {
    const d = decide(input({ model: model(lb), settings: polling, health: poll(["http://a", "http://b"]) }))
    expect(d.status?.regionStatus).toEqual([{ name: "west", available: false, lastCheck: NOW }])
    expect(d.status?.phase).toBe("Degraded")
    expect(d.status?.message).toBe("Model proxy is ready; degraded: unavailable regions: west")
  })

  it("poll period max(interval, 30s) and timeout from healthCheck", () => {
    expect(healthPollIntervalMs(spec({ loadBalancing: { healthCheck: { interval: "2m" } } }))).toBe(120_000)
    expect(healthPollIntervalMs(spec({ loadBalancing: { healthCheck: { enabled: false } } }))).toBeUndefined()
    expect(healthPollTimeoutMs(spec({ loadBalancing: { healthCheck: { timeout: "500ms" } } }))).toBe(500)
    expect(healthPollTimeoutMs(spec({}))).toBe(5000)
  })

  it("consecutive failures count up and reset; no endpoint healthy → NotReady", () => {
    const first = decide(input({ model: model(lb), settings: polling, health: poll([]) }))
    expect(summary(first)).toEqual({ phase: "NotReady", ready: "False/ProxyNotAvailable", healthy: false })
    const second = decide(
      input({ model: model(lb, {}, first.status), settings: polling, health: poll(["http://a"], LATER) }),
    )
    expect(second.status?.endpointStatus?.map((e) => e.failureCount)).toEqual([0, 2])
  })

  it("without a new poll the previous health is kept; without polling it is unset", () => {
    const polled = decide(
      input({ model: model(lb), settings: polling, health: poll(["http://a", "http://b"]) }),
    )
    const kept = decide(input({ model: model(lb, {}, polled.status), settings: polling, now: LATER }))
    expect(kept.status?.endpointStatus).toEqual(polled.status?.endpointStatus)
    expect(kept.statusChanged).toBe(false)
    const off = decide(input({ model: model(lb, {}, polled.status), now: LATER }))
    expect(off.status?.endpointStatus).toBeUndefined()
    expect(off.status?.lastHealthCheck).toBeUndefined()
  })

  it("metrics and cost from a scrape; kept until the next one; unset without scraping", () => {
    const scrape = settings({ metricsScrape: { enabled: true, intervalMs: 60_000 } })
    const m = model({
      costTracking: { enabled: true, currency: "EUR", inputTokenCost: 0.5, outputTokenCost: 1.5 },
    })
    const sample = { metrics: { totalRequests: 10, inputTokens: 2000, outputTokens: 1000 }, lastReset: NOW }
    const d = decide(input({ model: m, settings: scrape, metrics: sample }))
    expect(d.status?.metrics).toEqual(sample.metrics)
    expect(d.status?.costMetrics).toEqual({
      totalCost: 2.5,
      inputTokenCost: 1,
      outputTokenCost: 1.5,
      currency: "EUR",
      lastReset: NOW,
    })
    expect(d.requeueAfterMs).toBe(60_000)
    const kept = decide(input({ model: model(m.spec, {}, d.status), settings: scrape, now: LATER }))
    expect(kept.status?.costMetrics).toEqual(d.status?.costMetrics)
    expect(decide(input({ model: m, metrics: sample })).status?.metrics).toBeUndefined()
    const noCost = decide(input({ settings: scrape, metrics: sample }))
    expect(noCost.status?.costMetrics).toBeUndefined()
  })
})

describe("status bookkeeping", () => {
  const settle = (i: ModelInput) => {
    const first = decide(i)
    return decide({ ...i, model: model(i.model.spec, {}, first.status as LanguageModelStatus), now: LATER })
  }

  it("a second reconcile with nothing changed changes nothing (no status write, no event)", () => {
    const second = settle(input())
    expect(second.statusChanged).toBe(false)
    expect(second.events).toEqual([])
    expect(second.status?.lastUpdateTime).toBe(NOW)
  })

  it("lastUpdateTime and transition times move only with a change", () => {
    const first = decide(input({ deployment: undefined }))
    expect(first.events).toEqual([
      { type: "Normal", reason: "ProxyNotAvailable", note: "Configuring: Deployment not created yet" },
    ])
    const ready = decide(input({ model: model({}, {}, first.status), now: LATER }))
    expect(ready.statusChanged).toBe(true)
    expect(ready.status?.lastUpdateTime).toBe(LATER)
    expect(ready.events.map((e) => e.type)).toEqual(["Normal"])
    const configured = (d: ModelDecision) => condition(d, "ProxyConfigured")?.lastTransitionTime
    expect(configured(ready)).toBe(NOW)
    expect(condition(ready, "Ready")?.lastTransitionTime).toBe(LATER)
  })

  it("entering Error emits a Warning event", () => {
    const d = decide(input({ model: model({ provider: "azure" }, {}, decide(input()).status) }))
    expect(d.events).toEqual([
      {
        type: "Warning",
        reason: "InvalidSpec",
        note: "Error: spec.endpoint: required for provider azure: providers openai-compatible and azure need a URL for every deployment: set spec.endpoint, or list loadBalancing.endpoints, or give an enabled regions[] entry an endpoint",
      },
    ])
  })
})
