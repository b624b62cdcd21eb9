import { Result, Schema, SchemaIssue } from "effect"
import { describe, expect, it } from "vitest"
import * as Generated from "../../../src/api/k8s/generated.ts"
import * as K8s from "../../../src/api/k8s/index.ts"
import { ROOTS } from "../../../src/api/k8s/roots.ts"

/** A pod-spec fragment with every embedded type, as a user would write it in a LanguageTool/Client spec. */
const PodFragment = Schema.Struct({
  imagePullSecrets: Schema.Array(K8s.LocalObjectReference),
  env: Schema.Array(K8s.EnvVar),
  envFrom: Schema.Array(K8s.EnvFromSource),
  resources: K8s.ResourceRequirements,
  affinity: K8s.Affinity,
  tolerations: Schema.Array(K8s.Toleration),
  topologySpreadConstraints: Schema.Array(K8s.TopologySpreadConstraint),
  securityContext: K8s.PodSecurityContext,
  containerSecurityContext: K8s.SecurityContext,
  volumeMounts: Schema.Array(K8s.VolumeMount),
  volumes: Schema.Array(K8s.Volume),
  livenessProbe: K8s.Probe,
  readinessProbe: K8s.Probe,
  startupProbe: K8s.Probe,
  podSelector: K8s.LabelSelector,
  tls: Schema.Array(K8s.IngressTLS),
})

const selector = {
  matchLabels: { app: "web" },
  matchExpressions: [{ key: "tier", operator: "In", values: ["a"] }],
}
const valid = {
  imagePullSecrets: [{ name: "registry" }],
  env: [
    { name: "MODE", value: "prod" },
    { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token", optional: false } } },
    { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
    {
      name: "MEM",
      valueFrom: { resourceFieldRef: { containerName: "agent", resource: "limits.memory", divisor: "1Mi" } },
    },
  ],
  envFrom: [
    { configMapRef: { name: "settings" } },
    { prefix: "S_", secretRef: { name: "more", optional: true } },
  ],
  resources: {
    requests: { cpu: "250m", memory: "128Mi" },
    limits: { cpu: 1, memory: "1Gi", "nvidia.com/gpu": "1" },
  },
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 10, preference: { matchExpressions: [{ key: "disk", operator: "Exists" }] } },
      ],
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: selector } },
      ],
    },
  },
  tolerations: [
    { key: "dedicated", operator: "Equal", value: "ai", effect: "NoSchedule", tolerationSeconds: 300 },
  ],
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: "zone",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: selector,
      matchLabelKeys: ["pod-template-hash"],
    },
  ],
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 1000,
    fsGroup: 2000,
    seccompProfile: { type: "RuntimeDefault" },
    sysctls: [{ name: "net.core.somaxconn", value: "1024" }],
  },
  containerSecurityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
  },
  volumeMounts: [
    { name: "cache", mountPath: "/cache" },
    { name: "cfg", mountPath: "/etc/cfg", readOnly: true, subPath: "a" },
  ],
  volumes: [
    { name: "cache", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
    { name: "cfg", configMap: { name: "settings", defaultMode: 420, items: [{ key: "a", path: "a.yaml" }] } },
    { name: "sec", secret: { secretName: "creds" } },
    {
      name: "proj",
      projected: {
        sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600, audience: "x" } }],
      },
    },
    {
      name: "scratch",
      ephemeral: {
        volumeClaimTemplate: {
          metadata: { labels: { a: "b" } },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      },
    },
  ],
  livenessProbe: {
    httpGet: { path: "/healthz", port: "http", scheme: "HTTP" },
    periodSeconds: 10,
    failureThreshold: 3,
  },
  readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 5 },
  startupProbe: { grpc: { port: 9090 }, terminationGracePeriodSeconds: 30 },
  podSelector: selector,
  tls: [{ hosts: ["chat.example.com"], secretName: "chat-tls" }],
}

const decode = Schema.decodeUnknownResult(PodFragment)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
/** `path: message` lines of a failed decode (all errors). */
const problems = (input: unknown): ReadonlyArray<string> => {
  const result = decode(input, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(result)) return []
  return formatter(result.failure.issue).issues.map(
    (i) =>
      `${(i.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".")}: ${i.message}`,
  )
}
/** `valid` with one value replaced at `path`. */
const withValue = (path: ReadonlyArray<string | number>, value: unknown): unknown => {
  const copy = structuredClone(valid) as Record<string | number, unknown>
  let node = copy
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>
  node[path[path.length - 1] ?? ""] = value
  return copy
}

describe("decoding upstream types", () => {
  it("accepts a realistic pod-spec fragment and keeps every field (no unknown keys)", () => {
    expect(problems(valid)).toEqual([])
    const result = decode(valid)
    expect(Result.isSuccess(result) && result.success).toEqual(valid)
  })

  it.each([
    [["resources", "limits", "cpu"], "lots", "resources.limits.cpu"],
    [["resources", "requests", "cpu"], 0.5, "resources.requests.cpu"],
    [["livenessProbe", "periodSeconds"], "10", "livenessProbe.periodSeconds"],
    [["livenessProbe", "failureThreshold"], 2 ** 31, "livenessProbe.failureThreshold"],
    [["readinessProbe", "tcpSocket", "port"], 80.5, "readinessProbe.tcpSocket.port"],
    [["tolerations", 0, "tolerationSeconds"], "300", "tolerations.0.tolerationSeconds"],
    [["volumes", 0, "emptyDir", "sizeLimit"], "64 MB", "volumes.0.emptyDir.sizeLimit"],
    [["env", 1, "valueFrom", "secretKeyRef", "optional"], "no", "env.1.valueFrom.secretKeyRef.optional"],
  ])("rejects a wrong value at %j with a field path", (path, value, where) => {
    const lines = problems(withValue(path, value))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^${where.replaceAll(".", "\\.")}: `))
  })

  it("reports a missing required key and an unknown key with their paths", () => {
    expect(problems(withValue(["env", 0], { value: "x" }))).toEqual(["env.0.name: Missing key"])
    expect(problems(withValue(["volumeMounts", 0, "mountpath"], "/x"))).toEqual([
      expect.stringMatching(/^volumeMounts\.0\.mountpath: /),
    ])
  })
})

type Json = { readonly [key: string]: unknown }
const isJson = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)
/** Every JSON Schema node under `node` (properties, items, additionalProperties, anyOf branches). */
const nodes = (node: Json): ReadonlyArray<Json> => {
  const children = [
    ...Object.values(isJson(node.properties) ? node.properties : {}),
    node.items,
    node.additionalProperties,
    ...(Array.isArray(node.anyOf) ? node.anyOf : []),
  ].filter(isJson)
  return [node, ...children.flatMap(nodes)]
}
const jsonSchemaOf = (schema: Schema.Top): Json =>
  Schema.toJsonSchemaDocument(schema, {
    referencePolicy: () => undefined,
    includeAnnotationKey: (key) => key.startsWith("x-kubernetes-"),
  }).schema as Json
/** The obvious post-processing of the CRD generator: drop Effect's open-struct marker. */
const postProcess = (node: Json): Json =>
  JSON.parse(JSON.stringify(node), (_key, value: unknown) => {
    if (isJson(value) && value.properties !== undefined && value.additionalProperties === true) {
      const { additionalProperties: _, ...rest } = value
      return rest
    }
    return value
  })
const at = (root: Json, path: string): Json =>
  path.split(".").reduce<Json>((node, step) => {
    const next =
      step === "[]" ? node.items : step === "{}" ? node.additionalProperties : (node.properties as Json)[step]
    if (!isJson(next)) throw new Error(`no ${step} in ${JSON.stringify(node).slice(0, 100)}`)
    return next
  }, root)

describe("JSON Schema for the CRD generator", () => {
  it("EnvVar: description and atomic map markers, inlined; openapi-gen's zero-value defaults dropped", () => {
    const env = jsonSchemaOf(K8s.EnvVar)
    expect(env.description).toBe("EnvVar represents an environment variable present in a Container.")
    expect(env.required).toEqual(["name"])
    expect(at(env, "name")).toMatchObject({ type: "string" })
    expect(at(env, "name")).not.toHaveProperty("default")
    expect(at(env, "valueFrom.secretKeyRef")).toMatchObject({
      "x-kubernetes-map-type": "atomic",
      required: ["key"],
    })
    expect(at(env, "valueFrom.secretKeyRef.name")).not.toHaveProperty("default")
  })

  it("Probe: int-or-string ports and flat int32 fields", () => {
    const probe = jsonSchemaOf(K8s.Probe)
    expect(at(probe, "httpGet.port")).toEqual({
      anyOf: [{ type: "integer" }, { type: "string" }],
      description: expect.stringContaining("Name or number of the port"),
      "x-kubernetes-int-or-string": true,
    })
    expect(at(probe, "tcpSocket.port")["x-kubernetes-int-or-string"]).toBe(true)
    expect(at(probe, "periodSeconds")).toEqual({
      type: "integer",
      format: "int32",
      description: expect.stringContaining("How often"),
    })
    expect(at(probe, "terminationGracePeriodSeconds")).toMatchObject({ type: "integer", format: "int64" })
    expect(at(probe, "httpGet.httpHeaders")["x-kubernetes-list-type"]).toBe("atomic")
  })

  it("ResourceRequirements: quantities with pattern, claims as a list-map", () => {
    const resources = jsonSchemaOf(K8s.ResourceRequirements)
    expect(at(resources, "limits.{}")).toEqual({
      anyOf: [{ type: "integer" }, { type: "string" }],
      pattern: K8s.QUANTITY_PATTERN,
      "x-kubernetes-int-or-string": true,
    })
    expect(at(resources, "claims")).toMatchObject({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    })
  })

  it("Volume: nested sources keep their markers; embedded ObjectMeta is a pruned object", () => {
    const volume = jsonSchemaOf(K8s.Volume)
    expect(at(volume, "projected.sources")["x-kubernetes-list-type"]).toBe("atomic")
    expect(at(volume, "emptyDir.sizeLimit").pattern).toBe(K8s.QUANTITY_PATTERN)
    expect(at(volume, "ephemeral.volumeClaimTemplate.metadata")).toEqual({
      type: "object",
      description: expect.stringContaining("May contain labels and annotations"),
      "x-kubernetes-preserve-unknown-fields": false,
    })
    expect(at(volume, "ephemeral.volumeClaimTemplate.spec")).not.toHaveProperty("default")
    // A real `+default=` marker survives.
    expect(at(volume, "azureDisk.cachingMode").default).toBe("ReadWrite")
  })

  it.each(Object.keys(Generated.DEFINITIONS))(
    "%s: no $ref, allOf, null branch, Effect bounds or open struct after post-processing",
    (name) => {
      const schema = (Generated as Record<string, unknown>)[name]
      if (!Schema.isSchema(schema)) throw new Error(`${name} is not exported as a schema`)
      const text = JSON.stringify(jsonSchemaOf(schema))
      expect(text).not.toMatch(/"\$ref"|"allOf"|"oneOf"|"type":"null"|9007199254740991|"NaN"/)
      for (const node of nodes(postProcess(jsonSchemaOf(schema)))) {
        expect(node.properties !== undefined && node.additionalProperties !== undefined).toBe(false)
        if (Array.isArray(node.anyOf)) expect(node["x-kubernetes-int-or-string"]).toBe(true)
      }
    },
  )
})

describe("root definitions", () => {
  it("every root is re-exported by index.ts under its short name", () => {
    const exported = new Set(Object.keys(K8s))
    for (const root of ROOTS) expect(exported).toContain(root.slice(root.lastIndexOf(".") + 1))
    expect(K8s.SOURCE).toEqual({ module: "k8s.io/kubernetes", version: "v1.37.2" })
  })
})
