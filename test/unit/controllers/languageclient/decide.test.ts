import { describe, expect, it } from "vitest"
import type { Condition } from "../../../../src/api/shared.ts"
import { type ClientPlan, decide } from "../../../../src/controllers/languageclient/decide.ts"
import { decideStatus, type Observed } from "../../../../src/controllers/languageclient/status.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { agent, client, deploymentWith, input, LATER, model, NOW, persona, tool } from "./fixtures.ts"

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate generated objects
type Loose = any
const cond = (list: ReadonlyArray<Condition> | undefined, type: string) => list?.find((c) => c.type === type)
const reconcile = (plan: ClientPlan) => {
  if (plan._tag !== "Reconcile")
    throw new Error(`expected Reconcile, got ${plan._tag}: ${JSON.stringify(plan)}`)
  return plan
}
const child = (plan: ClientPlan, kind: string, name: string): Loose =>
  reconcile(plan).apply.find((a) => a.desired.kind === kind && a.desired.metadata.name === name)?.desired
const names = (plan: ClientPlan) =>
  reconcile(plan).apply.map((a) => `${a.desired.kind}/${a.desired.metadata.name}`)
const envOf = (d: Loose): Record<string, string> =>
  Object.fromEntries(d.spec.template.spec.containers[0].env.map((e: Loose) => [e.name, e.value ?? "<ref>"]))
const none: Observed = { objects: new Map(), errors: [] }
/** Objects as stored after applying the plan (ours). */
const stored = (plan: ClientPlan, extra: ReadonlyArray<KubeObject> = []): Map<string, KubeObject> =>
  new Map([
    ...reconcile(plan).apply.map(
      (a) =>
        [
          `${a.desired.kind}/${a.desired.metadata.name}`,
          { ...a.desired, metadata: { ...a.desired.metadata, uid: `uid-${a.desired.metadata.name}` } },
        ] as const,
    ),
    ...extra.map((o) => [`${o.kind}/${o.metadata.name}`, o] as const),
  ])

describe("LanguageClient decide: validation, membership, dependencies", () => {
  it.each([
    ["upper-case name", { name: "Chat" }, "InvalidName"],
    ["bad region name", { spec: { regions: [{ name: "EU" }] } }, "InvalidName"],
    ["duplicate regions", { spec: { regions: [{ name: "eu" }, { name: "eu" }] } }, "InvalidSpec"],
    [
      "PDB with both bounds",
      { spec: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } },
      "InvalidSpec",
    ],
    ["TLS without a source", { spec: { tls: { enabled: true } } }, "InvalidSpec"],
    ["cert-manager without issuer", { spec: { tls: { enabled: true, certManager: true } } }, "InvalidSpec"],
    [
      "sameSite None insecure",
      { spec: { sessionConfig: { cookieConfig: { sameSite: "None", secure: false } } } },
      "InvalidSpec",
    ],
    ["redis without endpoint", { spec: { sessionConfig: { backend: "redis" } } }, "InvalidSpec"],
    [
      "CORS credentials with *",
      { spec: { cors: { allowCredentials: true, allowedOrigins: ["*"] } } },
      "InvalidSpec",
    ],
    [
      "reserved volume",
      { spec: { volumes: [{ name: "client-config", emptyDir: {} }] } },
      "ReservedVolumeName",
    ],
    [
      "cross-namespace Secret",
      { spec: { tls: { enabled: true, secretRef: { name: "t", namespace: "other" } } } },
      "CrossNamespaceSecretUnsupported",
    ],
    [
      "required auth with ingress and no provider",
      {
        spec: {
          ingress: { enabled: true },
          authentication: { enabled: true, allowAnonymous: true, requireAuthentication: true },
        },
      },
      "InvalidSpec",
    ],
  ] as const)("%s → Failed/%s, nothing applied", (_what, over, reason) => {
    const c = client(over)
    const plan = decide(input(c))
    expect(plan).toMatchObject({ _tag: "Blocked", reason, phase: "Failed", wait: false })
    const s = decideStatus(input(c), plan, none)
    expect(s.status.phase).toBe("Failed")
    expect(cond(s.status.conditions, "Ready")).toMatchObject({ status: "False", reason })
    expect(s.events).toEqual([expect.objectContaining({ type: "Warning", reason })])
  })

  it("a default issuer setting makes certManager without an issuer valid", () => {
    const c = client({
      spec: { tls: { enabled: true, certManager: true }, ingress: { enabled: true, hosts: ["a.example"] } },
    })
    expect(decide(input(c, {}, { defaultIssuer: "letsencrypt" }))._tag).toBe("Reconcile")
  })

  it.each([
    ["missing cluster", { name: "demo", phase: undefined }, undefined, "ClusterNotFound", true],
    [
      "cluster not Ready",
      { name: "demo", phase: "Pending", namespace: "demo" },
      "x",
      "ClusterNotReady",
      true,
    ],
    [
      "namespace mismatch",
      { name: "demo", phase: "Ready", namespace: "other" },
      "x",
      "ClusterNamespaceMismatch",
      false,
    ],
  ] as const)("%s → %s", (_w, view, present, reason, wait) => {
    const c = client({ spec: { clusterRef: "demo" } })
    const plan = decide(input(c, {}, { cluster: present === undefined ? undefined : view }))
    expect(plan).toMatchObject({ _tag: "Blocked", reason, wait, phase: wait ? "Pending" : "Failed" })
  })

  it.each([
    ["model", { spec: { modelRefs: [{ name: "nope" }] } }, {}, "ModelNotFound", true],
    [
      "region model",
      { spec: { regions: [{ name: "eu", modelRefs: [{ name: "eu-model" }] }] } },
      {},
      "ModelNotFound",
      true,
    ],
    ["tool", { spec: { toolRefs: [{ name: "fetch" }] } }, {}, "ToolNotFound", true],
    ["agent", { spec: { agentRefs: [{ name: "support" }] } }, {}, "AgentNotFound", true],
    ["persona", { spec: { personaRef: { name: "p" } } }, {}, "PersonaNotFound", true],
    [
      "persona not Ready",
      { spec: { personaRef: { name: "p" } } },
      { personas: [persona("p", "Validating")] },
      "PersonaNotReady",
      true,
    ],
    [
      "persona in Error",
      { spec: { personaRef: { name: "p" } } },
      { personas: [persona("p", "Error")] },
      "PersonaInvalid",
      false,
    ],
    [
      "auth provider Secret",
      {
        spec: {
          authentication: {
            enabled: true,
            providers: [{ name: "oidc", type: "oidc", secretRef: { name: "oidc" } }],
          },
        },
      },
      {},
      "SecretNotFound",
      true,
    ],
    [
      "session Secret",
      { spec: { sessionConfig: { backend: "redis", backendConfig: { secretRef: { name: "redis" } } } } },
      {},
      "SecretNotFound",
      true,
    ],
  ] as const)(
    "missing %s → %s, DependenciesResolved=False, nothing applied",
    (_w, over, world, reason, wait) => {
      const c = client(over)
      const plan = decide(input(c, world))
      expect(plan).toMatchObject({ _tag: "Blocked", reason, wait, dependency: true })
      const s = decideStatus(input(c), plan, none)
      expect(cond(s.status.conditions, "DependenciesResolved")).toMatchObject({ status: "False", reason })
      expect(s.status.phase).toBe(wait ? "Pending" : "Failed")
    },
  )

  it("a disabled toolRef/agentRef needs nothing; sidecar tools and unreachable agents are noted, not failed", () => {
    const c = client({
      spec: {
        toolRefs: [{ name: "off", enabled: false }, { name: "side" }, { name: "svc" }],
        agentRefs: [{ name: "gone", enabled: false }, { name: "auto" }, { name: "chat" }],
      },
    })
    const plan = reconcile(
      decide(
        input(c, {
          models: [model("gpt")],
          tools: [tool("side", { deploymentMode: "sidecar" }), tool("svc", { port: 9000 })],
          agents: [agent("auto"), agent("chat", { executionMode: "interactive" })],
        }),
      ),
    )
    expect(plan.dependencies.message).toContain(
      'sidecar-mode tools skipped (clients get no sidecars): "demo/side"',
    )
    expect(plan.dependencies.message).toContain('omitted from AGENT_ENDPOINTS: "demo/auto"')
    const env = envOf(child(plan, "Deployment", "chat"))
    expect(env.MCP_SERVERS).toBe("http://svc.demo.svc.cluster.local:9000")
    expect(env.AGENT_ENDPOINTS).toBe("http://chat.demo.svc.cluster.local:80")
    const agents = JSON.parse(child(plan, "ConfigMap", "chat-client").data["agents.json"])
    expect(agents).toEqual([
      { name: "auto", namespace: "demo", url: "" },
      { name: "chat", namespace: "demo", url: "http://chat.demo.svc.cluster.local:80" },
    ])
  })
})

describe("LanguageClient decide: children", () => {
  it("default layout: ConfigMap, Deployment, Service with env in §6.5 order and restricted pods", () => {
    const c = client({
      spec: {
        personaRef: { name: "p" },
        logging: { level: "debug" },
        env: [
          { name: "LOG_FORMAT", value: "text" },
          { name: "EXTRA", value: "1" },
        ],
        containerSecurityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: true },
        podLabels: { team: "a", "app.kubernetes.io/name": "evil" },
        nodeSelector: { pool: "web" },
        imagePullSecrets: [{ name: "reg" }],
        updateStrategy: { type: "Recreate" },
      },
    })
    const plan = decide(input(c, { models: [model("gpt")], personas: [persona("p")] }))
    expect(names(plan)).toEqual(["ConfigMap/chat-client", "Deployment/chat", "Service/chat"])
    const d = child(plan, "Deployment", "chat")
    const container = d.spec.template.spec.containers[0]
    expect(container.env.map((e: Loose) => e.name)).toEqual([
      "CLIENT_NAME",
      "CLIENT_NAMESPACE",
      "CLIENT_TYPE",
      "CLIENT_CONFIG_DIR",
      "PORT",
      "MODEL_ENDPOINTS",
      "LLM_MODEL",
      "OPENAI_API_KEY",
      "PERSONA_NAME",
      "LOG_LEVEL",
      "LOG_FORMAT",
      "EXTRA",
    ])
    expect(envOf(d)).toMatchObject({
      CLIENT_TYPE: "web",
      PORT: "8080",
      MODEL_ENDPOINTS: "http://gpt.demo.svc.cluster.local:8000",
      LLM_MODEL: "gpt-id",
      PERSONA_NAME: "p",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "text",
    })
    // The user's values unchanged (allowPrivilegeEscalation: true included), restricted defaults for the rest.
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: true,
      capabilities: { drop: ["ALL"] },
    })
    expect(d.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    })
    expect(d.spec.replicas).toBe(2)
    expect(d.spec.strategy).toEqual({ type: "Recreate" })
    expect(d.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/managed-by": "language-operator",
      "app.kubernetes.io/name": "chat",
      "app.kubernetes.io/part-of": "langop",
      "langop.io/kind": "LanguageClient",
    })
    expect(d.spec.template.metadata.labels).toMatchObject({ team: "a", "app.kubernetes.io/name": "chat" })
    expect(d.spec.template.spec).toMatchObject({
      nodeSelector: { pool: "web" },
      imagePullSecrets: [{ name: "reg" }],
    })
    expect(d.spec.template.metadata.annotations["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)
    expect(container.volumeMounts).toEqual([
      { name: "client-config", mountPath: "/etc/langop/client", readOnly: true },
    ])
    const cm = child(plan, "ConfigMap", "chat-client")
    expect(Object.keys(cm.data)).toEqual([
      "agents.json",
      "auth.json",
      "client.json",
      "model-refs.json",
      "models.json",
      "name",
      "namespace",
      "persona.json",
      "persona_name",
      "tools.json",
      "type",
    ])
    expect(JSON.parse(cm.data["auth.json"])).toEqual({ mode: "open", providers: [] })
    const svc = child(plan, "Service", "chat")
    expect(svc.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8080, targetPort: 8080 }],
    })
    // memory sessions (the default) with 2 replicas: sticky, with a warning
    expect(svc.spec.sessionAffinity).toBe("ClientIP")
    expect(reconcile(plan).warnings.join()).toContain("ClientIP affinity")
  })

  it("one replica, no affinity; prometheus annotations when monitoring is on; HPA omits replicas", () => {
    const one = decide(input(client({ spec: { replicas: 1, monitoring: {} } })))
    expect(child(one, "Service", "chat").spec.sessionAffinity).toBeUndefined()
    expect(child(one, "Deployment", "chat").spec.template.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8080",
      "prometheus.io/path": "/metrics",
    })
    const hpa = decide(
      input(client({ spec: { replicas: 1, horizontalPodAutoscaler: { enabled: true, maxReplicas: 4 } } })),
    )
    expect(child(hpa, "Deployment", "chat").spec.replicas).toBeUndefined()
    expect(child(hpa, "HorizontalPodAutoscaler", "chat").spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: "chat" },
      minReplicas: 2,
      maxReplicas: 4,
    })
  })

  it("config hash changes with the persona / a Secret version, not on re-decide", () => {
    const c = client({
      spec: { sessionConfig: { backend: "redis", backendConfig: { secretRef: { name: "redis" } } } },
    })
    const hash = (v: string) =>
      child(decide(input(c, { secrets: { redis: v } })), "Deployment", "chat").spec.template.metadata
        .annotations["langop.io/config-hash"]
    expect(hash("1")).toBe(hash("1"))
    expect(hash("1")).not.toBe(hash("2"))
  })

  it("auth and session Secrets are mounted, never copied; auth.json carries modes and secret paths", () => {
    const c = client({
      spec: {
        authentication: {
          enabled: true,
          requireAuthentication: true,
          providers: [
            { name: "off", type: "basic", enabled: false, secretRef: { name: "x" } },
            {
              name: "oidc",
              type: "oidc",
              config: { issuer: "https://id" },
              secretRef: { name: "oidc-secret", key: "client-secret" },
            },
          ],
        },
        sessionConfig: { backend: "redis", backendConfig: { secretRef: { name: "redis" } } },
      },
    })
    const plan = decide(input(c, { secrets: { "oidc-secret": "1", redis: "2" } }))
    const d = child(plan, "Deployment", "chat")
    expect(d.spec.template.spec.volumes).toEqual([
      { name: "client-config", configMap: { name: "chat-client" } },
      {
        name: "auth-1",
        secret: { secretName: "oidc-secret", items: [{ key: "client-secret", path: "client-secret" }] },
      },
      { name: "session-secret", secret: { secretName: "redis" } },
    ])
    expect(JSON.parse(child(plan, "ConfigMap", "chat-client").data["auth.json"])).toEqual({
      mode: "required",
      providers: [
        {
          name: "oidc",
          type: "oidc",
          config: { issuer: "https://id" },
          secretPath: "/etc/langop/secrets/auth/oidc/client-secret",
        },
      ],
    })
    expect(JSON.stringify(child(plan, "ConfigMap", "chat-client"))).not.toContain('oidc-secret":')
  })

  it("TLS without an ingress mounts the Secret at /etc/langop/tls", () => {
    const plan = decide(
      input(client({ spec: { tls: { enabled: true, secretRef: { name: "cert" } } } }), {
        secrets: { cert: "1" },
      }),
    )
    expect(child(plan, "Deployment", "chat").spec.template.spec.volumes).toContainEqual({
      name: "tls",
      secret: { secretName: "cert" },
    })
  })

  it.each([
    ["Issuer", "cert-manager.io/issuer"],
    ["ClusterIssuer", "cert-manager.io/cluster-issuer"],
  ] as const)(
    "ingress with cert-manager (%s found) annotates and adds the <name>-tls entry",
    (kind, annotation) => {
      const c = client({
        spec: {
          ingress: {
            enabled: true,
            className: "nginx",
            hosts: ["chat.example", "b.example"],
            annotations: { a: "b" },
          },
          tls: { enabled: true, certManager: true, certManagerIssuer: "le" },
        },
      })
      const plan = decide(input(c, {}, { issuerKind: kind }))
      const ing = child(plan, "Ingress", "chat")
      expect(ing.metadata.annotations).toMatchObject({ a: "b", [annotation]: "le" })
      expect(ing.spec.ingressClassName).toBe("nginx")
      expect(ing.spec.rules).toHaveLength(2)
      expect(ing.spec.rules[0]).toEqual({
        host: "chat.example",
        http: {
          paths: [
            { path: "/", pathType: "Prefix", backend: { service: { name: "chat", port: { name: "http" } } } },
          ],
        },
      })
      expect(ing.spec.tls).toEqual([{ hosts: ["chat.example", "b.example"], secretName: "chat-tls" }])
      // no TLS volume: the Ingress terminates TLS
      expect(child(plan, "Deployment", "chat").spec.template.spec.volumes).toHaveLength(1)
    },
  )

  it("host-less ingress has one rule; an ingress.tls entry naming the same secret is not duplicated", () => {
    const c = client({
      spec: {
        ingress: { enabled: true, tls: [{ hosts: ["x"], secretName: "cert" }] },
        tls: { enabled: true, secretRef: { name: "cert" } },
      },
    })
    const ing = child(decide(input(c, { secrets: { cert: "1" } })), "Ingress", "chat")
    expect(ing.spec.rules).toEqual([{ http: { paths: [expect.objectContaining({ path: "/" })] } }])
    expect(ing.spec.tls).toEqual([{ hosts: ["x"], secretName: "cert" }])
  })

  it("regions: per-region Deployment/Service/Ingress with the region label, shared Service, no <name> Deployment", () => {
    const c = client({
      spec: {
        podDisruptionBudget: { minAvailable: 1 },
        horizontalPodAutoscaler: { enabled: true },
        regions: [
          {
            name: "eu",
            replicas: 3,
            modelRefs: [{ name: "eu-model" }],
            ingress: { enabled: true, hosts: ["eu.example"] },
          },
          { name: "us", affinity: { nodeAffinity: {} } },
          { name: "ap", enabled: false },
        ],
      },
    })
    const plan = decide(input(c, { models: [model("gpt"), model("eu-model")] }))
    expect(names(plan).sort()).toEqual([
      "ConfigMap/chat-client",
      "Deployment/chat-eu",
      "Deployment/chat-us",
      "HorizontalPodAutoscaler/chat-eu",
      "HorizontalPodAutoscaler/chat-us",
      "Ingress/chat-eu",
      "PodDisruptionBudget/chat",
      "Service/chat",
      "Service/chat-eu",
      "Service/chat-us",
    ])
    const eu = child(plan, "Deployment", "chat-eu")
    expect(eu.spec.selector.matchLabels["langop.io/region"]).toBe("eu")
    expect(eu.metadata.labels["langop.io/region"]).toBe("eu")
    expect(eu.spec.template.spec.nodeSelector).toEqual({ "topology.kubernetes.io/region": "eu" })
    expect(envOf(eu).MODEL_ENDPOINTS).toBe("http://eu-model.demo.svc.cluster.local:8000")
    const us = child(plan, "Deployment", "chat-us")
    expect(us.spec.template.spec.nodeSelector).toBeUndefined()
    expect(envOf(us).MODEL_ENDPOINTS).toBe("http://gpt.demo.svc.cluster.local:8000")
    expect(child(plan, "Service", "chat").spec.selector["langop.io/region"]).toBeUndefined()
    expect(child(plan, "Service", "chat-us").spec.selector["langop.io/region"]).toBe("us")
    expect(child(plan, "Ingress", "chat-eu").spec.rules[0].http.paths[0].backend.service.name).toBe("chat-eu")
  })

  it("deletes our objects of a layout no longer in use, never foreign ones; reports NameConflict", () => {
    const c = client()
    const ours = (kind: string, name: string): KubeObject => ({
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
    const foreign: KubeObject = {
      kind: "Service",
      metadata: {
        name: "chat",
        uid: "u-f",
        ownerReferences: [
          {
            apiVersion: "langop.io/v1alpha1",
            kind: "LanguageTool",
            name: "chat",
            uid: "t",
            controller: true,
          },
        ],
      },
    }
    const plan = reconcile(
      decide(input(c, {}, { live: [ours("Deployment", "chat-eu"), ours("Ingress", "chat"), foreign] })),
    )
    expect(plan.delete).toEqual([
      { role: "deployment", name: "chat-eu", uid: "u-chat-eu" },
      { role: "ingress", name: "chat", uid: "u-chat" },
    ])
    expect(plan.conflicts).toEqual([
      { role: "service", message: expect.stringContaining('controlled by LanguageTool "chat"') },
    ])
    const s = decideStatus(input(c), plan, none)
    expect(s.status.phase).toBe("Failed")
    expect(cond(s.status.conditions, "Ready")?.reason).toBe("NameConflict")
  })

  it("ServiceMonitor only with its CRD; a warning otherwise", () => {
    const c = client({
      spec: { monitoring: { serviceMonitor: true, additionalLabels: { release: "prom" } } },
    })
    const without = reconcile(decide(input(c)))
    expect(names(without)).not.toContain("ServiceMonitor/chat")
    expect(without.warnings.join()).toContain("ServiceMonitorCRDMissing")
    const withCrd = decide(input(c, {}, { serviceMonitorCrd: true }))
    expect(child(withCrd, "ServiceMonitor", "chat")).toMatchObject({
      metadata: { labels: { release: "prom" } },
      spec: { endpoints: [{ port: "http", path: "/metrics" }] },
    })
  })

  it("a live object equal to the desired one needs no write", () => {
    const c = client()
    const first = reconcile(decide(input(c)))
    const second = reconcile(decide(input(c, {}, { live: [...stored(first).values()] })))
    expect(second.apply.every((a) => !a.changed)).toBe(true)
    expect(second.delete).toEqual([])
  })
})

describe("LanguageClient status", () => {
  const c = client({ spec: { replicas: 1 } })
  it.each([
    ["no ready pod", deploymentWith("chat", 1, 0), "Pending", "False"],
    ["ready", deploymentWith("chat", 1, 1), "Running", "True"],
    ["rolling out", deploymentWith("chat", 2, 1, { updated: 1 }), "Updating", "False"],
  ] as const)("%s → %s", (_w, dep, phase, ready) => {
    const plan = decide(input(c))
    const s = decideStatus(input(c), plan, { objects: stored(plan, [dep as KubeObject]), errors: [] })
    expect(s.status).toMatchObject({
      phase,
      observedGeneration: 1,
      url: "http://chat.demo.svc.cluster.local:8080",
      readyReplicas: dep.status.readyReplicas,
      lastUpdateTime: NOW,
    })
    expect(cond(s.status.conditions, "Ready")?.status).toBe(ready)
    expect(cond(s.status.conditions, "DependenciesResolved")).toMatchObject({
      status: "True",
      reason: "Resolved",
    })
    expect(cond(s.status.conditions, "IngressReady")).toMatchObject({ status: "True", reason: "Disabled" })
    expect(cond(s.status.conditions, "AutoscalingReady")).toMatchObject({
      status: "True",
      reason: "Disabled",
    })
    // fed back: no change, no event, even later
    const again = decideStatus(
      input(client({ spec: { replicas: 1 }, status: s.status as Loose }), {}, { now: LATER }),
      plan,
      {
        objects: stored(plan, [dep as KubeObject]),
        errors: [],
      },
    )
    expect(again.statusChanged).toBe(false)
    expect(again.events).toEqual([])
  })

  it("URL: https ingress host with path; LoadBalancer address; NodePort unset; IngressReady from the address", () => {
    const ing = client({
      spec: {
        ingress: { enabled: true, hosts: ["chat.example"], path: "/app" },
        tls: { enabled: true, secretRef: { name: "c" } },
      },
    })
    const plan = decide(input(ing, { secrets: { c: "1" } }))
    const pending = decideStatus(input(ing), plan, { objects: stored(plan), errors: [] })
    expect(pending.status.url).toBe("https://chat.example/app")
    expect(cond(pending.status.conditions, "IngressReady")).toMatchObject({
      status: "False",
      reason: "Pending",
    })
    const withAddress = stored(plan)
    withAddress.set("Ingress/chat", {
      ...(withAddress.get("Ingress/chat") as KubeObject),
      status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } },
    } as KubeObject)
    expect(
      cond(
        decideStatus(input(ing), plan, { objects: withAddress, errors: [] }).status.conditions,
        "IngressReady",
      ),
    ).toMatchObject({ status: "True", reason: "AddressAssigned" })

    const lb = client({ spec: { serviceType: "LoadBalancer" } })
    const lbPlan = decide(input(lb))
    expect(
      decideStatus(input(lb), lbPlan, { objects: stored(lbPlan), errors: [] }).status.url,
    ).toBeUndefined()
    const lbObjects = stored(lbPlan)
    lbObjects.set("Service/chat", {
      ...(lbObjects.get("Service/chat") as KubeObject),
      status: { loadBalancer: { ingress: [{ hostname: "lb.example" }] } },
    } as KubeObject)
    expect(decideStatus(input(lb), lbPlan, { objects: lbObjects, errors: [] }).status.url).toBe(
      "http://lb.example:8080",
    )
    const np = client({ spec: { serviceType: "NodePort" } })
    const npPlan = decide(input(np))
    expect(
      decideStatus(input(np), npPlan, { objects: stored(npPlan), errors: [] }).status.url,
    ).toBeUndefined()
  })

  it("an apply error → Ready False <Object>Error, Reconciled False", () => {
    const plan = decide(input(c))
    const s = decideStatus(input(c), plan, {
      objects: new Map(),
      errors: [{ role: "deployment", message: "boom" }],
    })
    expect(cond(s.status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "DeploymentError",
      message: "boom",
    })
    expect(cond(s.status.conditions, "Reconciled")).toMatchObject({
      status: "False",
      reason: "ReconcileError",
    })
  })

  it("regions: phases combine, regionalURLs and regionStatus per region", () => {
    const r = client({
      spec: {
        regions: [
          { name: "eu", replicas: 1 },
          { name: "us", replicas: 1 },
        ],
      },
    })
    const plan = decide(input(r))
    const s = decideStatus(input(r), plan, {
      objects: stored(plan, [
        deploymentWith("chat-eu", 1, 1) as KubeObject,
        deploymentWith("chat-us", 1, 0) as KubeObject,
      ]),
      errors: [],
    })
    expect(s.status.phase).toBe("Updating")
    expect(s.status.readyReplicas).toBe(1)
    expect(s.status.regionalURLs).toEqual({
      eu: "http://chat-eu.demo.svc.cluster.local:8080",
      us: "http://chat-us.demo.svc.cluster.local:8080",
    })
    expect(s.status.regionStatus).toEqual([
      expect.objectContaining({ name: "eu", phase: "Running", readyReplicas: 1, lastUpdateTime: NOW }),
      expect.objectContaining({ name: "us", phase: "Pending", readyReplicas: 0 }),
    ])
  })
})
