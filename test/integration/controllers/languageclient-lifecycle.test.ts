// A LanguageClient following changes around it, on the real control plane, with NO periodic resync (every
// reaction must come from a watch or the controller's own requeue):
// - a change to an ancestor of its persona reaches its ConfigMap;
// - a rotated Secret or edited ConfigMap read through `env`/`envFrom` rolls the pods (config hash);
// - while a dependency is awaited the unchanged, serving Deployment keeps the client Running;
// - ServiceMonitor (Prometheus Operator's real CRD): created, edits reverted, removed when turned off;
// - TLS from cert-manager without an Ingress: the client creates the Certificate (cert-manager's real CRDs)
//   and does not wait for a Secret nothing else would create.
// Only the client controller runs; the personas' and model's statuses are set by the test.
import { execFileSync } from "node:child_process"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  clientControllerOptionsFromSettings,
  languageClientController,
} from "../../../src/controllers/languageclient/index.ts"
import { Transient } from "../../../src/kube/errors.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { eventually } from "../runtime/support.ts"
import { certManagerCrdsDir, kubectl, clusterTest as test } from "../setup/context.ts"
import { installCrds, waitEstablished } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

/** Prometheus Operator release whose ServiceMonitor CRD is installed (Go module proxy, ~4 MB). */
const PROMETHEUS_OPERATOR_VERSION = "v0.85.0"
const SERVICE_MONITOR_CRD = "servicemonitors.monitoring.coreos.com"
const TIMEOUT = 90_000
// biome-ignore lint/suspicious/noExplicitAny: assertions navigate whatever the API server returns
type Loose = any

const serviceMonitorCrdFile = (): string => {
  const out = execFileSync(
    "go",
    [
      "mod",
      "download",
      "-json",
      `github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}`,
    ],
    { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" } },
  )
  const dir = (JSON.parse(out) as { Dir?: string }).Dir
  if (dir === undefined) throw new Error(`go mod download gave no Dir: ${out}`)
  return join(dir, "example", "prometheus-operator-crd", `monitoring.coreos.com_servicemonitors.yaml`)
}

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}
const get = async (what: string, namespace: string): Promise<Loose | undefined> => {
  const r = await kubectl(["get", what, "-n", namespace, "-o", "json"])
  if (r.exitCode !== 0) {
    if (/NotFound|not found/u.test(r.stderr)) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout)
}
const apply = (namespace: string, obj: Record<string, unknown>) =>
  must(
    ["apply", "-n", namespace, "--server-side", "--field-manager=test-user", "-f", "-"],
    JSON.stringify(obj),
  )
const setStatus = (kind: string, namespace: string, name: string, status: Record<string, unknown>) =>
  must([
    "patch",
    kind,
    name,
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ])
const cond = (o: Loose, type: string) => (o?.status?.conditions ?? []).find((c: Loose) => c.type === type)

let operator: RunningOperator
/** Namespaces where the operator's GETs of Deployments fail (as when the API server cannot answer). */
const unreadableIn = new Set<string>()

beforeAll(async () => {
  await installCrds()
  await must(["apply", "--server-side", "--force-conflicts", "-f", certManagerCrdsDir()])
  await must([
    "apply",
    "--server-side",
    "--force-conflicts",
    "--field-manager=langop-tests",
    "-f",
    serviceMonitorCrdFile(),
  ])
  await waitEstablished([SERVICE_MONITOR_CRD, "certificates.cert-manager.io"])
  const settings = await Effect.runPromise(settingsFrom({}))
  operator = await startOperator(
    [
      languageClientController({
        ...clientControllerOptionsFromSettings(settings),
        // Progress must come from watches, not timers; only the ServiceMonitor re-check is shortened.
        dependencyWait: "10 minutes",
        monitorRecheck: "2 seconds",
      }),
    ],
    {
      wrapClient: (inner) => ({
        ...inner,
        get: (r, at) =>
          r.kind === "Deployment" && at.namespace !== undefined && unreadableIn.has(at.namespace)
            ? Effect.fail(
                new Transient({ code: 503, request: `GET deployments/${at.name}`, message: "injected" }),
              )
            : inner.get(r, at),
      }),
    },
  )
})

afterAll(async () => {
  await operator.stop()
  // Other test files expect a control plane without the Prometheus Operator.
  await kubectl(["delete", "crd", SERVICE_MONITOR_CRD, "--ignore-not-found", "--wait=false"])
})

const client = (spec: Record<string, unknown> = {}) => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageClient",
  metadata: { name: "chat" },
  spec: { image: "example/chat:1", replicas: 1, modelRefs: [{ name: "m" }], ...spec },
})

const model = (namespace: string) =>
  apply(namespace, {
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageModel",
    metadata: { name: "m" },
    spec: { provider: "openai", modelName: "gpt-4o-mini" },
  })

const clientWhere = (namespace: string, what: string, check: (c: Loose) => boolean) =>
  eventually(
    what,
    async () => {
      const c = await get("languageclient/chat", namespace)
      return c !== undefined && c.status?.observedGeneration === c.metadata.generation && check(c)
        ? c
        : undefined
    },
    TIMEOUT,
  )
const running = (namespace: string) =>
  clientWhere(
    namespace,
    "chat Running and Ready",
    (c) => c.status.phase === "Running" && cond(c, "Ready")?.status === "True",
  )

const configHash = async (namespace: string): Promise<string> =>
  (await get("deployment/chat", namespace))?.spec.template.metadata.annotations["langop.io/config-hash"]

describe("LanguageClient follows what it reads", () => {
  test("a change to its persona's parent reaches the client's ConfigMap", async ({ namespace }) => {
    await model(namespace)
    const persona = (name: string, spec: Record<string, unknown>) =>
      apply(namespace, {
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguagePersona",
        metadata: { name },
        spec,
      })
    const base = {
      displayName: "Base",
      description: "Base persona",
      systemPrompt: "Be helpful.",
      tone: "friendly",
      language: "en",
    }
    await persona("base", base)
    await persona("child", {
      parentPersona: { name: "base", namespace },
      displayName: "Child",
      description: "Child persona",
      systemPrompt: "Answer product questions.",
    })
    for (const name of ["base", "child"])
      await setStatus("languagepersona", namespace, name, { phase: "Ready" })
    await apply(namespace, client({ personaRef: { name: "child", namespace } }))
    await running(namespace)
    const toneOf = async () =>
      JSON.parse((await get("configmap/chat-client", namespace))?.data["persona.json"] ?? "{}").tone
    expect(await toneOf()).toBe("friendly")

    await persona("base", { ...base, tone: "formal" })
    await eventually("the inherited tone in persona.json", async () => (await toneOf()) === "formal", TIMEOUT)
  })

  test("rotating a Secret or ConfigMap read through env/envFrom rolls the pods", async ({ namespace }) => {
    await model(namespace)
    await must(["create", "secret", "generic", "api", "-n", namespace, "--from-literal=token=one"])
    await must(["create", "configmap", "settings", "-n", namespace, "--from-literal=MODE=a"])
    await apply(
      namespace,
      client({
        env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } }],
        envFrom: [{ configMapRef: { name: "settings" } }],
      }),
    )
    await running(namespace)
    const first = await configHash(namespace)

    await must([
      "patch",
      "secret",
      "api",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"stringData":{"token":"two"}}',
    ])
    const second = await eventually(
      "a new config hash after the Secret changed",
      async () => {
        const h = await configHash(namespace)
        return h !== first ? h : undefined
      },
      TIMEOUT,
    )
    await must([
      "patch",
      "configmap",
      "settings",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"data":{"MODE":"b"}}',
    ])
    await eventually(
      "a new config hash after the ConfigMap changed",
      async () => {
        const h = await configHash(namespace)
        return h !== first && h !== second
      },
      TIMEOUT,
    )
    // The new template rolls out: the client is Running again with every replica updated.
    await clientWhere(
      namespace,
      "rolled out",
      (c) => c.status.phase === "Running" && c.status.updatedReplicas === c.status.readyReplicas,
    )
  })

  test("a Running client waiting for a model it lost stays Running; its Deployment is untouched", async ({
    namespace,
  }) => {
    await model(namespace)
    await apply(namespace, client())
    await running(namespace)
    const before = await get("deployment/chat", namespace)
    await must(["delete", "languagemodel", "m", "-n", namespace, "--wait=true"])
    const waiting = await clientWhere(
      namespace,
      "DependenciesResolved=False ModelNotFound",
      (c) => cond(c, "DependenciesResolved")?.reason === "ModelNotFound",
    )
    expect(waiting.status.phase).toBe("Running")
    expect(cond(waiting, "Ready")).toMatchObject({ status: "False", reason: "ModelNotFound" })
    const after = await get("deployment/chat", namespace)
    expect(after.metadata.generation).toBe(before.metadata.generation)
    expect(after.status.readyReplicas).toBe(1)
  })
})

describe("LanguageClient optional children", () => {
  test("ServiceMonitor: created and owned, an edit is reverted, removed when turned off", async ({
    namespace,
  }) => {
    await model(namespace)
    const monitoring = { enabled: true, serviceMonitor: true, metricsPath: "/metrics" }
    await apply(namespace, client({ monitoring }))
    await running(namespace)
    const sm = await eventually("ServiceMonitor chat", () => get("servicemonitor/chat", namespace), TIMEOUT)
    expect(sm.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageClient", name: "chat", controller: true }),
    ])
    expect(sm.spec.endpoints).toEqual([{ port: "http", path: "/metrics" }])

    // Settled: the periodic re-checks (every 2 s here) compare and write nothing.
    const writes = () => operator.writes().filter((w) => w.namespace === namespace && w.kind !== "Event")
    const settledAt = await eventually(
      "writes settle",
      async () => {
        const n = writes().length
        await new Promise((r) => setTimeout(r, 2500))
        return writes().length === n ? n : undefined
      },
      TIMEOUT,
    )
    const reconciles = await operator.reconciles("languageclient")
    await eventually(
      "two more reconciles",
      async () => (await operator.reconciles("languageclient")) >= reconciles + 2,
      TIMEOUT,
    )
    expect(writes().slice(settledAt)).toEqual([])

    await must([
      "patch",
      "servicemonitor",
      "chat",
      "-n",
      namespace,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { endpoints: [{ port: "http", path: "/edited" }] } }),
    ])
    await eventually(
      "the edit reverted",
      async () => (await get("servicemonitor/chat", namespace))?.spec.endpoints[0]?.path === "/metrics",
      TIMEOUT,
    )

    await apply(namespace, client({ monitoring: { ...monitoring, serviceMonitor: false } }))
    await eventually(
      "ServiceMonitor removed",
      async () => (await get("servicemonitor/chat", namespace)) === undefined,
      TIMEOUT,
    )
  })

  test("TLS from cert-manager without an Ingress: the client's Certificate issues <name>-tls", async ({
    namespace,
  }) => {
    await model(namespace)
    await apply(namespace, client({ tls: { enabled: true, certManager: true, certManagerIssuer: "le" } }))
    const cert = await eventually("Certificate chat", () => get("certificate/chat", namespace), TIMEOUT)
    expect(cert.spec).toEqual({
      secretName: "chat-tls",
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "le" },
      dnsNames: [`chat.${namespace}.svc`, `chat.${namespace}.svc.cluster.local`],
    })
    expect(cert.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageClient", name: "chat", controller: true }),
    ])
    // Not blocked on the Secret: the workload exists and mounts it.
    const deployment = await eventually("Deployment chat", () => get("deployment/chat", namespace), TIMEOUT)
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: "tls",
      secret: expect.objectContaining({ secretName: "chat-tls" }),
    })
    await clientWhere(
      namespace,
      "dependencies resolved",
      (x) => cond(x, "DependenciesResolved")?.status === "True",
    )

    // What cert-manager would do: issue the Secret; the client then gets Ready (its pods roll onto it).
    await must([
      "create",
      "secret",
      "generic",
      "chat-tls",
      "-n",
      namespace,
      "--type=kubernetes.io/tls",
      "--from-literal=tls.crt=x",
      "--from-literal=tls.key=y",
    ])
    await clientWhere(
      namespace,
      "Ready without the not-issued warning",
      (x) => cond(x, "Ready")?.status === "True" && !cond(x, "Ready").message.includes("not issued"),
    )
  })

  test("a Deployment whose state cannot be read: phase Unknown, not written; readable again: Running", async ({
    namespace,
  }) => {
    await model(namespace)
    await apply(namespace, client())
    await running(namespace)
    unreadableIn.add(namespace)
    // Without the operator's label the Deployment leaves the cache, so the next reconcile must GET it.
    await must(["label", "deployment", "chat", "-n", namespace, "app.kubernetes.io/managed-by-"])
    const unknown = await clientWhere(namespace, "phase Unknown", (c) => c.status.phase === "Unknown")
    expect(cond(unknown, "Ready")).toMatchObject({ status: "Unknown", reason: "DeploymentUnreadable" })
    expect(cond(unknown, "WorkloadAvailable")?.status).toBe("Unknown")
    expect(cond(unknown, "Ready").message).toContain('Deployment "chat" cannot be read')
    const deployment = await get("deployment/chat", namespace)
    expect(deployment.metadata.labels["app.kubernetes.io/managed-by"]).toBeUndefined() // not written blind

    unreadableIn.delete(namespace)
    await running(namespace)
    const repaired = await get("deployment/chat", namespace)
    expect(repaired.metadata.labels["app.kubernetes.io/managed-by"]).toBe("language-operator")
  })
})
