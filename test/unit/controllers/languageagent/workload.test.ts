import { describe, expect, it } from "vitest"
import type { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { configMapData, modelsJson, toolsJson } from "../../../../src/controllers/languageagent/configmap.ts"
import { resolveDependencies } from "../../../../src/controllers/languageagent/dependencies.ts"
import {
  desiredRole,
  desiredRoleBinding,
  desiredService,
  desiredServiceAccount,
  EVENT_READER_RULES,
  podServiceAccount,
} from "../../../../src/controllers/languageagent/support.ts"
import {
  activeDeadlineSeconds,
  desiredCronJob,
  desiredDeployment,
  type PodInput,
} from "../../../../src/controllers/languageagent/workload.ts"
import { sidecarHash } from "../../../../src/domain/sidecars.ts"
import { agent, lookups, NS, persona, tool, type World } from "./fixtures.ts"

const podInput = (a: LanguageAgent, world: World = {}, extra: Partial<PodInput> = {}): PodInput => {
  const r = resolveDependencies(a, lookups(world), "cluster.local")
  if (!r.dependencies.ok || !r.persona.ok) throw new Error("fixture")
  return {
    agent: a,
    env: [{ name: "AGENT_NAME", value: a.metadata.name ?? "" }],
    sidecars: r.dependencies.sidecars,
    knowledge: r.persona.persona?.knowledge ?? [],
    clusterLabel: undefined,
    configData: { name: a.metadata.name ?? "" },
    secretVersions: {},
    serviceAccountName: podServiceAccount(a),
    defaultFsGroup: undefined,
    ...extra,
  }
}

// Container level: only what a container alone can say; the run-as fields come from the pod level.
const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
}

describe("Deployment", () => {
  it("minimal autonomous agent", () => {
    const d = desiredDeployment(podInput(agent()))
    expect(d.metadata).toEqual({
      name: "bot",
      namespace: NS,
      labels: {
        "app.kubernetes.io/managed-by": "language-operator",
        "app.kubernetes.io/name": "bot",
        "app.kubernetes.io/part-of": "langop",
        "langop.io/kind": "LanguageAgent",
      },
      ownerReferences: [
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguageAgent",
          name: "bot",
          uid: `uid-${NS}-bot`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    })
    expect(d.spec.replicas).toBe(1)
    expect(d.spec.selector.matchLabels).toEqual(d.metadata.labels)
    expect(d.spec.strategy).toEqual({ type: "RollingUpdate" })
    const pod = d.spec.template.spec
    expect(pod.restartPolicy).toBe("Always")
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } })
    expect(pod.volumes).toEqual([{ name: "agent-config", configMap: { name: "bot-agent" } }])
    expect(pod.containers).toEqual([
      {
        name: "agent",
        image: "agent:1",
        imagePullPolicy: "IfNotPresent",
        env: [{ name: "AGENT_NAME", value: "bot" }],
        volumeMounts: [{ name: "agent-config", mountPath: "/etc/langop/agent", readOnly: true }],
        securityContext: RESTRICTED_CONTAINER,
      },
    ])
    expect(Object.keys(d.spec.template.metadata.annotations)).toEqual(["langop.io/config-hash"])
  })

  it("honours every pass-through field (docs/concepts.md X-10) and keeps the operator's labels and annotations on top", () => {
    const a = agent({
      imagePullPolicy: "Always",
      imagePullSecrets: [{ name: "regcred" }],
      envFrom: [{ configMapRef: { name: "extra" } }],
      resources: { limits: { memory: "1Gi" } },
      nodeSelector: { zone: "b", disk: "ssd" },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "k", operator: "Exists" }] }],
          },
        },
      },
      tolerations: [{ key: "gpu", operator: "Exists" }],
      serviceAccountName: "runner",
      securityContext: { runAsUser: 1000, runAsNonRoot: false, fsGroup: 7 },
      volumes: [{ name: "data", emptyDir: {} }],
      volumeMounts: [{ name: "data", mountPath: "/data" }],
      podAnnotations: { team: "sre", "langop.io/config-hash": "user" },
      podLabels: { team: "sre", "app.kubernetes.io/name": "spoofed" },
      replicas: 3,
    })
    const d = desiredDeployment(podInput(a))
    const t = d.spec.template
    expect(d.spec.replicas).toBe(3)
    expect(t.metadata.labels).toMatchObject({ team: "sre", "app.kubernetes.io/name": "bot" })
    expect(t.metadata.annotations.team).toBe("sre")
    expect(t.metadata.annotations["langop.io/config-hash"]).not.toBe("user")
    expect(t.spec).toMatchObject({
      imagePullSecrets: [{ name: "regcred" }],
      nodeSelector: { disk: "ssd", zone: "b" },
      affinity: a.spec.affinity,
      tolerations: [{ key: "gpu", operator: "Exists" }],
      serviceAccountName: "runner",
      // the user's values unchanged (runAsNonRoot: false included); restricted defaults for the rest
      securityContext: {
        runAsUser: 1000,
        runAsNonRoot: false,
        fsGroup: 7,
        seccompProfile: { type: "RuntimeDefault" },
      },
    })
    expect(t.spec.volumes.map((v) => v.name)).toEqual(["agent-config", "data"])
    expect(t.spec.containers[0]).toMatchObject({
      imagePullPolicy: "Always",
      envFrom: [{ configMapRef: { name: "extra" } }],
      resources: { limits: { memory: "1Gi" } },
      volumeMounts: [
        { name: "agent-config", mountPath: "/etc/langop/agent", readOnly: true },
        { name: "data", mountPath: "/data" },
      ],
    })
  })

  it("workspace: volume and mount first, Recreate with ReadWriteOnce, default fsGroup only without a security context", () => {
    const ws = agent({ workspace: { enabled: true, mountPath: "/work" } })
    const d = desiredDeployment(podInput(ws, {}, { defaultFsGroup: 2000 }))
    expect(d.spec.strategy.type).toBe("Recreate")
    expect(d.spec.template.spec.volumes[0]).toEqual({
      name: "workspace",
      persistentVolumeClaim: { claimName: "bot-workspace" },
    })
    expect(
      (d.spec.template.spec.containers[0]?.volumeMounts as ReadonlyArray<unknown> | undefined)?.[0],
    ).toEqual({
      name: "workspace",
      mountPath: "/work",
    })
    expect(d.spec.template.spec.securityContext).toMatchObject({ fsGroup: 2000 })
    const own = desiredDeployment(
      podInput(
        agent({ workspace: { enabled: true }, securityContext: { runAsUser: 5 } }),
        {},
        { defaultFsGroup: 2000 },
      ),
    )
    expect(own.spec.template.spec.securityContext).not.toHaveProperty("fsGroup")
    expect(
      desiredDeployment(podInput(agent({ workspace: { enabled: true, accessMode: "ReadWriteMany" } }))).spec
        .strategy.type,
    ).toBe("RollingUpdate")
    const off = desiredDeployment(
      podInput(agent({ workspace: { enabled: false } }), {}, { defaultFsGroup: 2000 }),
    )
    expect(off.spec.template.spec.volumes.map((v) => v.name)).toEqual(["agent-config"])
    expect(off.spec.template.spec.securityContext).not.toHaveProperty("fsGroup")
  })

  it("interactive and event-driven agents expose port http 8080", () => {
    const ports = (mode: string) =>
      desiredDeployment(podInput(agent({ executionMode: mode }))).spec.template.spec.containers[0]?.ports
    expect(ports("interactive")).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }])
    expect(ports("event-driven")).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }])
    expect(ports("autonomous")).toBeUndefined()
  })

  it("sidecar marks: tools in toolRefs order with their shaping hash; none without sidecars", () => {
    const world = {
      tools: [
        tool("b", { deploymentMode: "sidecar", port: 9001 }),
        tool("a", { deploymentMode: "sidecar", port: 9000 }),
        tool("svc"),
      ],
    }
    const input = podInput(agent({ toolRefs: [{ name: "b" }, { name: "svc" }, { name: "a" }] }), world)
    const ann = desiredDeployment(input).spec.template.metadata.annotations
    expect(ann["langop.io/sidecar-tools"]).toBe(`${NS}/b,${NS}/a`)
    expect(ann["langop.io/sidecar-hash"]).toBe(sidecarHash(input.sidecars))
    // A change of a sidecar's shaping field changes the hash (the workload rolls).
    const changed = podInput(agent({ toolRefs: [{ name: "b" }, { name: "svc" }, { name: "a" }] }), {
      tools: [
        tool("b", { deploymentMode: "sidecar", port: 9001, image: "b:2" }),
        tool("a", { deploymentMode: "sidecar", port: 9000 }),
        tool("svc"),
      ],
    })
    expect(desiredDeployment(changed).spec.template.metadata.annotations["langop.io/sidecar-hash"]).not.toBe(
      ann["langop.io/sidecar-hash"],
    )
    expect(desiredDeployment(podInput(agent())).spec.template.metadata.annotations).not.toHaveProperty(
      "langop.io/sidecar-tools",
    )
  })

  it("config hash: deterministic, and changes with ConfigMap data, env or a Secret version", () => {
    const base = podInput(agent())
    const hash = (i: PodInput) =>
      desiredDeployment(i).spec.template.metadata.annotations["langop.io/config-hash"]
    expect(hash(base)).toBe(hash(podInput(agent())))
    expect(hash({ ...base, configData: { name: "other" } })).not.toBe(hash(base))
    expect(hash({ ...base, env: [{ name: "X", value: "1" }] })).not.toBe(hash(base))
    expect(hash({ ...base, secretVersions: { redis: "7" } })).not.toBe(hash(base))
  })

  it("config hash: a ConfigMap the env reads counts by version; none read leaves the hash as it was", () => {
    const base = podInput(agent())
    const hash = (i: PodInput) =>
      desiredDeployment(i).spec.template.metadata.annotations["langop.io/config-hash"]
    expect(hash({ ...base, configMapVersions: {} })).toBe(hash(base))
    const v1 = hash({ ...base, configMapVersions: { settings: "41" } })
    expect(v1).not.toBe(hash(base))
    expect(hash({ ...base, configMapVersions: { settings: "42" } })).not.toBe(v1)
    expect(hash({ ...base, configMapVersions: { settings: "missing" } })).not.toBe(v1)
  })

  it("knowledge sources are mounted read-only from Secret volumes knowledge-<n>", () => {
    const world = {
      personas: [
        persona("p", {
          knowledgeSources: [{ name: "docs", type: "url", url: "https://d", secretRef: { name: "tok" } }],
        }),
      ],
    }
    const d = desiredDeployment(podInput(agent({ personaRef: { name: "p" } }), world))
    expect(d.spec.template.spec.volumes).toContainEqual({
      name: "knowledge-0",
      secret: { secretName: "tok", items: [{ key: "api-key", path: "api-key" }] },
    })
    expect(d.spec.template.spec.containers[0]?.volumeMounts).toContainEqual({
      name: "knowledge-0",
      mountPath: "/etc/langop/knowledge/docs/",
      readOnly: true,
    })
  })

  it("the cluster label goes on metadata and the pod template, never on the selector", () => {
    const d = desiredDeployment(podInput(agent({ clusterRef: "demo" }), {}, { clusterLabel: "demo" }))
    expect(d.metadata.labels["langop.io/cluster"]).toBe("demo")
    expect(d.spec.template.metadata.labels["langop.io/cluster"]).toBe("demo")
    expect(d.spec.selector.matchLabels).not.toHaveProperty("langop.io/cluster")
  })
})

describe("CronJob", () => {
  it("schedule (hourly default), Forbid, suspend on replicas 0, backoffLimit, deadline, Job restart policy", () => {
    const c = desiredCronJob(
      podInput(
        agent({
          executionMode: "scheduled",
          schedule: "0 7 * * 1-5",
          timeout: "15m",
          backoffLimit: 2,
          restartPolicy: "Never",
        }),
      ),
    )
    expect(c.spec).toMatchObject({ schedule: "0 7 * * 1-5", concurrencyPolicy: "Forbid", suspend: false })
    expect(c.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 900 })
    expect(c.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never")
    expect(c.spec.jobTemplate.metadata.labels["app.kubernetes.io/name"]).toBe("bot")
    expect(c.spec).not.toHaveProperty("successfulJobsHistoryLimit")
    const d = desiredCronJob(
      podInput(agent({ executionMode: "scheduled", replicas: 0, restartPolicy: "Always" })),
    )
    expect(d.spec).toMatchObject({ schedule: "0 * * * *", suspend: true })
    expect(d.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 600 })
    expect(d.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("OnFailure")
  })
  it.each([
    ["10m", 600],
    ["90s", 90],
    ["1h", 3600],
    ["1500ms", 2],
    ["10us", 1],
    ["0s", 1],
  ])("activeDeadlineSeconds(%s) = %d", (t, s) => expect(activeDeadlineSeconds(t)).toBe(s))
})

describe("Service and RBAC (least rights)", () => {
  const ed = (triggers: ReadonlyArray<Record<string, unknown>>, extra: Record<string, unknown> = {}) =>
    agent({ executionMode: "event-driven", eventTriggers: triggers, ...extra })

  it("Service for interactive agents and webhook triggers only", () => {
    expect(desiredService(agent({ executionMode: "interactive" }), undefined)?.spec).toEqual({
      type: "ClusterIP",
      selector: {
        "app.kubernetes.io/managed-by": "language-operator",
        "app.kubernetes.io/name": "bot",
        "app.kubernetes.io/part-of": "langop",
        "langop.io/kind": "LanguageAgent",
      },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    })
    expect(desiredService(ed([{ type: "webhook", source: "/x" }]), undefined)).toBeDefined()
    expect(desiredService(ed([{ type: "kubernetes-event" }]), undefined)).toBeUndefined()
    expect(
      desiredService(agent({ executionMode: "autonomous", eventTriggers: [{ type: "webhook" }] }), undefined),
    ).toBeUndefined()
  })

  it("kubernetes-event: Role with read-only events, RoleBinding to the pod's service account", () => {
    const a = ed([{ type: "kubernetes-event", source: "Pod" }])
    expect(desiredRole(a, undefined)?.rules).toEqual(EVENT_READER_RULES)
    expect(EVENT_READER_RULES.flatMap((r) => r.verbs)).toEqual([
      "get",
      "list",
      "watch",
      "get",
      "list",
      "watch",
    ])
    expect(desiredRole(a, undefined)?.metadata.name).toBe("bot-events")
    expect(desiredServiceAccount(a, undefined)?.metadata.name).toBe("bot")
    expect(podServiceAccount(a)).toBe("bot")
    expect(desiredRoleBinding(a, undefined)).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "bot-events" },
      subjects: [{ kind: "ServiceAccount", name: "bot", namespace: NS }],
    })
    const own = ed([{ type: "kubernetes-event" }], { serviceAccountName: "mine" })
    expect(desiredServiceAccount(own, undefined)).toBeUndefined()
    expect(desiredRoleBinding(own, undefined)?.subjects).toEqual([
      { kind: "ServiceAccount", name: "mine", namespace: NS },
    ])
  })

  it("no RBAC without a kubernetes-event trigger or outside event-driven mode", () => {
    for (const a of [ed([{ type: "webhook" }]), agent({ eventTriggers: [{ type: "kubernetes-event" }] })]) {
      expect(desiredRole(a, undefined)).toBeUndefined()
      expect(desiredRoleBinding(a, undefined)).toBeUndefined()
      expect(desiredServiceAccount(a, undefined)).toBeUndefined()
      expect(podServiceAccount(a)).toBeUndefined()
    }
  })
})

describe("ConfigMap data", () => {
  it("keys per §ConfigMap; optional keys absent when empty; persona keys with a persona", () => {
    const a = agent({
      goal: "Do it",
      personaRef: { name: "p" },
      toolRefs: [{ name: "t", requireApproval: true }],
    })
    const world = { personas: [persona("p")], tools: [tool("t")] }
    const r = resolveDependencies(a, lookups(world), "cluster.local")
    if (!r.dependencies.ok || !r.persona.ok || r.persona.persona === undefined) throw new Error("fixture")
    const data = configMapData({
      agent: a,
      ...r.dependencies,
      persona: r.persona.persona,
      instructions: "text",
    })
    expect(Object.keys(data)).toEqual([
      "agent.json",
      "goal",
      "instructions",
      "mode",
      "models.json",
      "name",
      "namespace",
      "persona.json",
      "persona_name",
      "tools.json",
    ])
    expect(data.mode).toBe("autonomous")
    expect(data.persona_name).toBe("p")
    expect(JSON.parse(data["agent.json"] ?? "")).toMatchObject({
      image: "agent:1",
      executionMode: "autonomous",
    })
    expect(data["tools.json"]).toBe(
      `[{"name":"t","namespace":"${NS}","type":"mcp","deploymentMode":"service","url":"http://t.${NS}.svc.cluster.local:8080","requireApproval":true}]`,
    )
    const bare = configMapData({
      agent: agent(),
      models: [],
      tools: [],
      persona: undefined,
      instructions: "",
    })
    expect(Object.keys(bare)).toEqual([
      "agent.json",
      "mode",
      "models.json",
      "name",
      "namespace",
      "tools.json",
    ])
  })
  it("models.json lists keys in order, priority only when set", () => {
    expect(
      modelsJson([
        {
          name: "a",
          namespace: "n",
          modelName: "gpt",
          provider: "openai",
          url: "u",
          role: "primary",
          ready: true,
        },
        {
          name: "b",
          namespace: "n",
          modelName: "l",
          provider: "ollama",
          url: "v",
          role: "fallback",
          priority: 2,
          ready: false,
        },
      ]),
    ).toBe(
      '[{"name":"a","namespace":"n","modelName":"gpt","provider":"openai","url":"u","role":"primary"},{"name":"b","namespace":"n","modelName":"l","provider":"ollama","url":"v","role":"fallback","priority":2}]',
    )
    expect(toolsJson([])).toBe("[]")
  })
})
