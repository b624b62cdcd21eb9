import { describe, expect, it } from "vitest"
import {
  containerEnv,
  desiredConfigMap,
  desiredDeployment,
  desiredHpa,
  desiredPdb,
  desiredService,
  envReferences,
  toolConfigHash,
} from "../../../../src/controllers/languagetool/children.ts"
import { tool } from "./fixtures.ts"

const COMMON = {
  "app.kubernetes.io/name": "web-fetch",
  "app.kubernetes.io/managed-by": "language-operator",
  "app.kubernetes.io/part-of": "langop",
  "langop.io/kind": "LanguageTool",
}

// biome-ignore lint/suspicious/noExplicitAny: tests navigate plain generated objects
const spec = (o: { readonly [k: string]: unknown }): any => o.spec
// biome-ignore lint/suspicious/noExplicitAny: as above
const podOf = (o: { readonly [k: string]: unknown }): any => spec(o).template
// biome-ignore lint/suspicious/noExplicitAny: as above
const containerOf = (o: { readonly [k: string]: unknown }): any => podOf(o).spec.containers[0]

describe("LanguageTool children: Deployment", () => {
  it("one container `tool` with port http, image, pull policy, PORT env appended, default TCP readiness probe", () => {
    const d = desiredDeployment(tool({ spec: { env: [{ name: "A", value: "1" }] } }), undefined, [])
    expect(d.metadata).toMatchObject({
      name: "web-fetch",
      namespace: "demo",
      labels: COMMON,
      ownerReferences: [
        {
          kind: "LanguageTool",
          name: "web-fetch",
          uid: "uid-tool",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    })
    const c = containerOf(d)
    expect(c).toMatchObject({
      name: "tool",
      image: "ghcr.io/langop/mcp-web-fetch:1.0",
      imagePullPolicy: "IfNotPresent",
      ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
      env: [
        { name: "A", value: "1" },
        { name: "PORT", value: "8080" },
      ],
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3 },
    })
    expect(c.livenessProbe).toBeUndefined()
    expect(c.startupProbe).toBeUndefined()
    expect(spec(d).replicas).toBe(1)
    expect(spec(d).selector).toEqual({ matchLabels: COMMON })
    expect(spec(d).strategy).toEqual({ type: "RollingUpdate" }) // always owned, so a later switch back works
  })

  it("a user PORT wins (no duplicate), user probes are used as given", () => {
    const probe = { httpGet: { path: "/healthz", port: 9000 }, periodSeconds: 10 }
    const t = tool({
      spec: {
        port: 9000,
        env: [{ name: "PORT", value: "80" }],
        readinessProbe: probe,
        livenessProbe: probe,
        startupProbe: probe,
      },
    })
    expect(containerEnv(t)).toEqual([{ name: "PORT", value: "80" }])
    const c = containerOf(desiredDeployment(t, undefined, []))
    expect(c.readinessProbe).toEqual(probe)
    expect(c.livenessProbe).toEqual(probe)
    expect(c.startupProbe).toEqual(probe)
  })

  it("honours every pass-through field (docs/concepts.md X-10)", () => {
    const t = tool({
      spec: {
        imagePullPolicy: "Always",
        imagePullSecrets: [{ name: "regcred" }],
        envFrom: [{ secretRef: { name: "tool-env" } }],
        resources: { requests: { cpu: "50m" }, limits: { memory: "256Mi" } },
        nodeSelector: { disk: "ssd" },
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 1,
                preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
              },
            ],
          },
        },
        tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway" }],
        serviceAccountName: "tool-sa",
        securityContext: { runAsUser: 1000, fsGroup: 2000 },
        volumes: [{ name: "cache", emptyDir: {} }],
        volumeMounts: [{ name: "cache", mountPath: "/cache" }],
      },
    })
    const pod = podOf(desiredDeployment(t, undefined, []))
    expect(pod.spec).toMatchObject({
      imagePullSecrets: [{ name: "regcred" }],
      nodeSelector: { disk: "ssd" },
      affinity: t.spec.affinity,
      tolerations: t.spec.tolerations,
      topologySpreadConstraints: t.spec.topologySpreadConstraints,
      serviceAccountName: "tool-sa",
      volumes: [{ name: "cache", emptyDir: {} }],
    })
    expect(pod.spec.containers[0]).toMatchObject({
      imagePullPolicy: "Always",
      envFrom: [{ secretRef: { name: "tool-env" } }],
      resources: { requests: { cpu: "50m" }, limits: { memory: "256Mi" } },
      volumeMounts: [{ name: "cache", mountPath: "/cache" }],
    })
  })

  it("restricted Pod Security defaults for what the user leaves unset, the user's own values unchanged", () => {
    const pod = podOf(
      desiredDeployment(
        tool({ spec: { securityContext: { runAsUser: 1000, runAsNonRoot: false } } }),
        undefined,
        [],
      ),
    )
    expect(pod.spec.securityContext).toEqual({
      runAsUser: 1000,
      runAsNonRoot: false,
      seccompProfile: { type: "RuntimeDefault" },
    })
    expect(pod.spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    })
  })

  it("pod labels: user podLabels merged, common labels and cluster label win; never the cluster label in the selector", () => {
    const t = tool({
      spec: {
        podLabels: { team: "a", "app.kubernetes.io/name": "spoof" },
        podAnnotations: { note: "x", "langop.io/config-hash": "spoof" },
      },
    })
    const d = desiredDeployment(t, "demo", [])
    expect(d.metadata.labels).toEqual({ ...COMMON, "langop.io/cluster": "demo" })
    expect(podOf(d).metadata.labels).toEqual({ ...COMMON, team: "a", "langop.io/cluster": "demo" })
    expect(spec(d).selector).toEqual({ matchLabels: COMMON })
    expect(podOf(d).metadata.annotations.note).toBe("x")
    expect(podOf(d).metadata.annotations["langop.io/config-hash"]).toMatch(/^[0-9a-f]{64}$/u)
  })

  it("omits replicas while the HPA is enabled; maps the update strategy", () => {
    const hpa = desiredDeployment(
      tool({ spec: { replicas: 3, horizontalPodAutoscaler: { enabled: true, maxReplicas: 5 } } }),
      undefined,
      [],
    )
    expect("replicas" in spec(hpa)).toBe(false)
    const recreate = desiredDeployment(
      tool({ spec: { updateStrategy: { type: "Recreate" } } }),
      undefined,
      [],
    )
    expect(spec(recreate).strategy).toEqual({ type: "Recreate" })
    const rolling = desiredDeployment(
      tool({ spec: { updateStrategy: { rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } } } }),
      undefined,
      [],
    )
    expect(spec(rolling).strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 2, maxUnavailable: 0 },
    })
  })

  it("config hash: follows env and the versions of Secrets/ConfigMaps the env reads, nothing else", () => {
    const t = tool({
      spec: {
        env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } }],
        envFrom: [{ configMapRef: { name: "settings" } }],
      },
    })
    expect(envReferences(t)).toEqual({ configMaps: ["settings"], secrets: ["api"] })
    const secret = (resourceVersion: string | undefined) => ({
      kind: "Secret" as const,
      name: "api",
      resourceVersion,
    })
    const configMap = { kind: "ConfigMap" as const, name: "settings", resourceVersion: "5" }
    const v1 = [secret("1"), configMap]
    const base = toolConfigHash(t, v1)
    expect(toolConfigHash(t, [configMap, secret("1")])).toBe(base)
    expect(toolConfigHash(t, [secret("2"), configMap])).not.toBe(base)
    expect(toolConfigHash(t, [secret(undefined), configMap])).not.toBe(base)
    const otherEnv = tool({ spec: { ...t.spec, env: [...(t.spec.env ?? []), { name: "X", value: "1" }] } })
    expect(toolConfigHash(otherEnv, v1)).not.toBe(base)
    const otherService = tool({ spec: { ...t.spec, serviceAnnotations: { a: "b" } } })
    expect(toolConfigHash(otherService, v1)).toBe(base)
  })
})

describe("LanguageTool children: ConfigMap, Service, PDB, HPA", () => {
  it("ConfigMap <name>-tool: tool.json (spec, keys sorted), name, namespace, type", () => {
    const cm = desiredConfigMap(tool({ spec: { type: "openapi" } }), undefined)
    expect(cm.metadata.name).toBe("web-fetch-tool")
    const data = cm.data as Record<string, string>
    expect(Object.keys(data).sort()).toEqual(["name", "namespace", "tool.json", "type"])
    expect(data).toMatchObject({ name: "web-fetch", namespace: "demo", type: "openapi" })
    const json = JSON.parse(data["tool.json"] ?? "") as Record<string, unknown>
    expect(json.image).toBe("ghcr.io/langop/mcp-web-fetch:1.0")
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort())
  })

  it("Service: type, annotations, port http → port, selector = common labels", () => {
    const svc = desiredService(
      tool({ spec: { port: 9000, serviceType: "NodePort", serviceAnnotations: { b: "2", a: "1" } } }),
      "demo",
    )
    expect(svc.metadata.annotations).toEqual({ a: "1", b: "2" })
    expect(svc.metadata.labels).toEqual({ ...COMMON, "langop.io/cluster": "demo" })
    expect(spec(svc)).toEqual({
      type: "NodePort",
      selector: COMMON,
      ports: [{ name: "http", port: 9000, targetPort: 9000, protocol: "TCP" }],
    })
    expect(spec(desiredService(tool(), undefined)).type).toBe("ClusterIP")
  })

  it("PDB only when configured, with the one bound given", () => {
    expect(desiredPdb(tool(), undefined)).toBeUndefined()
    const pdb = desiredPdb(tool({ spec: { podDisruptionBudget: { maxUnavailable: 1 } } }), undefined)
    expect(pdb?.apiVersion).toBe("policy/v1")
    expect(spec(pdb ?? { spec: {} })).toEqual({ selector: { matchLabels: COMMON }, maxUnavailable: 1 })
  })

  it("HPA: disabled → none; no metric → CPU 80; cpu/memory/Pods/External mapped; Object and bad quantities skipped", () => {
    expect(desiredHpa(tool(), undefined).object).toBeUndefined()
    expect(
      desiredHpa(tool({ spec: { horizontalPodAutoscaler: { enabled: false } } }), undefined).object,
    ).toBeUndefined()
    const plain = desiredHpa(tool({ spec: { horizontalPodAutoscaler: { enabled: true } } }), undefined)
    expect(spec(plain.object ?? { spec: {} })).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web-fetch" },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ],
    })
    const full = desiredHpa(
      tool({
        spec: {
          horizontalPodAutoscaler: {
            enabled: true,
            minReplicas: 1,
            maxReplicas: 4,
            targetCPUUtilizationPercentage: 70,
            targetMemoryUtilizationPercentage: 60,
            customMetrics: [
              { name: "rps", type: "Pods", target: "100" },
              { name: "queue", type: "External", target: "500m" },
              { name: "ingress", type: "Object", target: "10" },
              { name: "bad", type: "Pods", target: "lots" },
            ],
          },
        },
      }),
      undefined,
    )
    expect(spec(full.object ?? { spec: {} }).metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
      {
        type: "Resource",
        resource: { name: "memory", target: { type: "Utilization", averageUtilization: 60 } },
      },
      {
        type: "Pods",
        pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "100" } },
      },
      {
        type: "External",
        external: { metric: { name: "queue" }, target: { type: "AverageValue", averageValue: "500m" } },
      },
    ])
    expect(full.unsupported).toHaveLength(2)
    expect(full.unsupported[0]).toContain("customMetrics[2] (ingress): type Object")
    expect(full.unsupported[1]).toContain('customMetrics[3] (bad): target "lots" is not a quantity')
  })
})
