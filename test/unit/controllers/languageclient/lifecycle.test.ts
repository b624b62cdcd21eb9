// LanguageClient children over a client's life: the cert-manager Certificate for pods that terminate TLS,
// ServiceMonitor removal and re-checks, env Secrets/ConfigMaps in the config hash, and the phase kept while
// a dependency is awaited.
import { describe, expect, it } from "vitest"
import type { Condition } from "../../../../src/api/shared.ts"
import type { EnvSourceVersion } from "../../../../src/controllers/common/env-sources.ts"
import { type ClientPlan, decide } from "../../../../src/controllers/languageclient/decide.ts"
import { decideStatus } from "../../../../src/controllers/languageclient/status.ts"
import { Transient } from "../../../../src/kube/errors.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { client, input, persona } from "./fixtures.ts"

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate generated objects
type Loose = any
const reconcile = (plan: ClientPlan) => {
  if (plan._tag !== "Reconcile") throw new Error(`expected Reconcile, got ${JSON.stringify(plan)}`)
  return plan
}
const child = (plan: ClientPlan, kind: string, name: string): Loose =>
  reconcile(plan).apply.find((a) => a.desired.kind === kind && a.desired.metadata.name === name)?.desired
const cond = (list: ReadonlyArray<Condition> | undefined, type: string) => list?.find((c) => c.type === type)
const ours = (apiVersion: string, kind: string, name: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    uid: `u-${name}`,
    ownerReferences: [
      {
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageClient",
        name: "chat",
        uid: "uid-client",
        controller: true,
      },
    ],
  },
})

describe("TLS from cert-manager without an Ingress", () => {
  const tls = { enabled: true, certManager: true, certManagerIssuer: "le" }

  it("creates Certificate <name> for the Services' DNS names, and the workload without waiting for the Secret", () => {
    const plan = decide(input(client({ spec: { tls } }), {}, { issuerKind: "ClusterIssuer" }))
    expect(child(plan, "Certificate", "chat")).toMatchObject({
      apiVersion: "cert-manager.io/v1",
      metadata: { ownerReferences: [expect.objectContaining({ kind: "LanguageClient", controller: true })] },
      spec: {
        secretName: "chat-tls",
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "le" },
        dnsNames: ["chat.demo.svc", "chat.demo.svc.cluster.local"],
      },
    })
    expect(child(plan, "Deployment", "chat").spec.template.spec.volumes).toContainEqual({
      name: "tls",
      secret: { secretName: "chat-tls" },
    })
    expect(reconcile(plan).warnings.join()).toContain('TLS Secret "chat-tls" is not issued yet')
  })

  it("a namespaced Issuer is named as such; regions add their Services' names", () => {
    const c = client({ spec: { tls, regions: [{ name: "eu" }, { name: "us" }] } })
    const cert = child(decide(input(c, {}, { issuerKind: "Issuer" })), "Certificate", "chat")
    expect(cert.spec.issuerRef.kind).toBe("Issuer")
    expect(cert.spec.dnsNames).toEqual([
      "chat.demo.svc",
      "chat.demo.svc.cluster.local",
      "chat-eu.demo.svc",
      "chat-eu.demo.svc.cluster.local",
      "chat-us.demo.svc",
      "chat-us.demo.svc.cluster.local",
    ])
  })

  it("once issued the Secret's version is in the config hash and the warning is gone", () => {
    const c = client({ spec: { tls } })
    const issued = reconcile(decide(input(c, { secrets: { "chat-tls": "7" } })))
    expect(issued.warnings.join()).not.toContain("not issued")
    const hash = (p: ClientPlan) =>
      child(p, "Deployment", "chat").spec.template.metadata.annotations["langop.io/config-hash"]
    expect(hash(issued)).not.toBe(hash(decide(input(c, { secrets: { "chat-tls": "8" } }))))
  })

  it.each([
    [
      "an Ingress (cert-manager's annotation issues it)",
      { tls, ingress: { enabled: true, hosts: ["a.example"] } },
    ],
    ["the user's Secret", { tls: { ...tls, secretRef: { name: "mine" } } }],
    ["TLS off", { tls: { ...tls, enabled: false } }],
  ])("no Certificate with %s; ours is deleted when it was there", (_w, spec) => {
    const plan = reconcile(
      decide(
        input(
          client({ spec }),
          { secrets: { mine: "1" } },
          { live: [ours("cert-manager.io/v1", "Certificate", "chat")] },
        ),
      ),
    )
    expect(child(plan, "Certificate", "chat")).toBeUndefined()
    expect(plan.delete).toContainEqual({ role: "certificate", name: "chat", uid: "u-chat" })
  })
})

describe("ServiceMonitor", () => {
  const monitored = { monitoring: { enabled: true, serviceMonitor: true } }

  it("turned off: ours is deleted and no re-check is scheduled", () => {
    const live = [ours("monitoring.coreos.com/v1", "ServiceMonitor", "chat")]
    const plan = reconcile(decide(input(client(), {}, { serviceMonitorCrd: true, live })))
    expect(plan.delete).toEqual([{ role: "serviceMonitor", name: "chat", uid: "u-chat" }])
    expect(plan.recheckMonitor).toBe(false)
  })

  it("wanted: applied and re-checked (it has no informer to report edits); an equal live one needs no write", () => {
    const first = reconcile(decide(input(client({ spec: monitored }), {}, { serviceMonitorCrd: true })))
    expect(first.recheckMonitor).toBe(true)
    const desired = first.apply.find((a) => a.role === "serviceMonitor")?.desired as KubeObject
    const same = reconcile(
      decide(input(client({ spec: monitored }), {}, { serviceMonitorCrd: true, live: [desired] })),
    )
    expect(same.apply.find((a) => a.role === "serviceMonitor")?.changed).toBe(false)
    const edited = {
      ...desired,
      spec: { ...(desired as Loose).spec, endpoints: [{ port: "http", path: "/other" }] },
    } as KubeObject
    const drift = reconcile(
      decide(input(client({ spec: monitored }), {}, { serviceMonitorCrd: true, live: [edited] })),
    )
    expect(drift.apply.find((a) => a.role === "serviceMonitor")?.changed).toBe(true)
  })
})

describe("Secrets and ConfigMaps read through env/envFrom", () => {
  const c = client({
    spec: {
      env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } }],
      envFrom: [{ configMapRef: { name: "settings" } }],
    },
  })
  const hash = (envSources: ReadonlyArray<EnvSourceVersion>) =>
    child(decide(input(c, {}, { envSources })), "Deployment", "chat").spec.template.metadata.annotations[
      "langop.io/config-hash"
    ]
  const at = (secret: string | undefined, configMap: string | undefined): ReadonlyArray<EnvSourceVersion> => [
    { kind: "ConfigMap", name: "settings", resourceVersion: configMap },
    { kind: "Secret", name: "api", resourceVersion: secret },
  ]

  it("a new version of either rolls the pods; the same versions in another order do not", () => {
    const base = hash(at("1", "1"))
    expect(hash([...at("1", "1")].reverse())).toBe(base)
    expect(hash(at("2", "1"))).not.toBe(base)
    expect(hash(at("1", "2"))).not.toBe(base)
    expect(hash(at(undefined, "1"))).not.toBe(base)
  })
})

describe("phase while a dependency is awaited", () => {
  const blockedBy = (phase: string | undefined, spec: Record<string, unknown>) => {
    const c = client({ spec, ...(phase !== undefined ? { status: { phase } } : {}) })
    const plan = decide(input(c, { personas: [] }))
    return decideStatus(input(c), plan, { objects: new Map(), errors: [] }).status
  }

  it.each([
    ["Running", "Running"],
    ["Updating", "Updating"],
    ["Pending", "Pending"],
    ["Failed", "Pending"],
    [undefined, "Pending"],
  ] as const)("a %s client waiting for a model is %s", (before, after) => {
    const s = blockedBy(before, { modelRefs: [{ name: "later" }] })
    expect(s.phase).toBe(after)
    expect(cond(s.conditions, "DependenciesResolved")).toMatchObject({
      status: "False",
      reason: "ModelNotFound",
    })
    expect(cond(s.conditions, "Ready")).toMatchObject({ status: "False", reason: "ModelNotFound" })
  })

  it("a failure that needs a change is Failed even for a running client", () => {
    const c = client({ spec: { personaRef: { name: "p" } }, status: { phase: "Running" } })
    const plan = decide(input(c, { personas: [persona("p", "Error")] }))
    expect(decideStatus(input(c), plan, { objects: new Map(), errors: [] }).status.phase).toBe("Failed")
  })
})

describe("a Deployment whose state cannot be read", () => {
  const error = new Transient({ code: 503, request: "GET deployments/chat", message: "unavailable" })

  it("is not written; phase Unknown, Ready and WorkloadAvailable Unknown with the reason", () => {
    const c = client({ status: { phase: "Running" } })
    const i = input(c, {}, { unreadable: [{ name: "chat", error }] })
    const plan = reconcile(decide(i))
    expect(plan.apply.map((a) => a.desired.kind)).not.toContain("Deployment")
    const s = decideStatus(i, plan, { objects: new Map(), errors: [] }).status
    expect(s.phase).toBe("Unknown")
    expect(cond(s.conditions, "Ready")).toMatchObject({
      status: "Unknown",
      reason: "DeploymentUnreadable",
      message: expect.stringContaining('Deployment "chat" cannot be read'),
    })
    expect(cond(s.conditions, "WorkloadAvailable")?.status).toBe("Unknown")
    expect(cond(s.conditions, "Reconciled")).toMatchObject({ status: "False", reason: "ReconcileError" })
  })

  it("with regions, one unreadable region makes the client Unknown (never Running)", () => {
    const c = client({ spec: { replicas: 1, regions: [{ name: "eu" }, { name: "us" }] } })
    const i = input(c, {}, { unreadable: [{ name: "chat-us", error }] })
    const plan = reconcile(decide(i))
    const eu = {
      ...(plan.apply.find((a) => a.desired.metadata.name === "chat-eu")?.desired as KubeObject),
      status: { readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    } as KubeObject
    const s = decideStatus(i, plan, { objects: new Map([["Deployment/chat-eu", eu]]), errors: [] }).status
    expect(s.phase).toBe("Unknown")
    expect(s.regionStatus?.map((r) => `${r.name}=${r.phase}`)).toEqual(["eu=Running", "us=Unknown"])
  })
})
