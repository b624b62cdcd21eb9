import { describe, expect, it } from "vitest"
import { controllerRef } from "../../../../src/controllers/common/ownership.ts"
import { validateModel } from "../../../../src/controllers/languagemodel/validate.ts"
import {
  configMapData,
  desiredConfigMap,
  desiredDeployment,
  desiredService,
  type WorkloadInput,
} from "../../../../src/controllers/languagemodel/workload.ts"
import { canonicalJson } from "../../../../src/domain/hash.ts"
import { settingsTable } from "../../../../src/settings.ts"
import { LITELLM_IMAGE } from "../../../contract/setup/litellm.ts"
import { model, render, spec } from "./fixtures.ts"

const id = { name: "m", namespace: "ns", owner: controllerRef(model({})) }
const labels = {
  "app.kubernetes.io/managed-by": "language-operator",
  "app.kubernetes.io/name": "m",
  "app.kubernetes.io/part-of": "langop",
  "langop.io/kind": "LanguageModel",
}

const workload = (
  fields: Record<string, unknown>,
  over: Partial<WorkloadInput> = {},
  extra = {},
): WorkloadInput => {
  const s = spec(fields)
  const rendered = render(fields, extra)
  return {
    id,
    spec: s,
    rendered,
    configData: configMapData(s, rendered.text),
    image: "img:1",
    mode: "rendered",
    apiKeySecretVersion: undefined,
    redisSecretVersion: undefined,
    ...over,
  }
}
const deployment = (fields: Record<string, unknown>, over: Partial<WorkloadInput> = {}, extra = {}) =>
  desiredDeployment(workload(fields, over, extra))
const container = (fields: Record<string, unknown>, over: Partial<WorkloadInput> = {}, extra = {}) => {
  const [c] = deployment(fields, over, extra).spec.template.spec.containers
  if (c === undefined) throw new Error("no container")
  return c
}
const envNames = (fields: Record<string, unknown>, over: Partial<WorkloadInput> = {}, extra = {}) =>
  container(fields, over, extra).env.map((e) => e.name)

describe("ConfigMap <name>-model", () => {
  it("has the original's keys with their presence rules, plus config.yaml, labels and owner", () => {
    const minimal = spec({})
    expect(Object.keys(configMapData(minimal, "x: 1\n"))).toEqual([
      "config.yaml",
      "model.json",
      "modelName",
      "provider",
      "timeout",
    ])
    const full = spec({
      endpoint: "https://e",
      apiKeySecretRef: { name: "s" },
      rateLimits: { requestsPerMinute: 1 },
      fallbacks: [{ modelRef: "b" }],
    })
    const data = configMapData(full, "x: 1\n")
    expect(Object.keys(data)).toEqual([
      "apiKeySecretRef.json",
      "config.yaml",
      "endpoint",
      "fallbacks.json",
      "model.json",
      "modelName",
      "provider",
      "rateLimits.json",
      "timeout",
    ])
    expect(data["apiKeySecretRef.json"]).toBe('{"key":"api-key","name":"s"}')
    expect(data["model.json"]).toBe(canonicalJson(full))
    expect(data.timeout).toBe("5m")
    const cm = desiredConfigMap(id, data)
    expect(cm.metadata).toEqual({ name: "m-model", namespace: "ns", labels, ownerReferences: [id.owner] })
  })

  it("holds no secret value, only the Secret's name", () => {
    const rendered = render({ apiKeySecretRef: { name: "openai-credentials" } })
    const text = JSON.stringify(
      configMapData(spec({ apiKeySecretRef: { name: "openai-credentials" } }), rendered.text),
    )
    expect(text).toContain("os.environ/LANGOP_MODEL_API_KEY")
    expect(text).not.toMatch(/valueFrom|secretKeyRef/u)
  })
})

describe("Deployment <name>", () => {
  it("one replica, selector = common labels, container proxy with args, port, probes", () => {
    const d = deployment({})
    expect(d.metadata.name).toBe("m")
    expect(d.spec.replicas).toBe(1)
    expect(d.spec.selector.matchLabels).toEqual(labels)
    expect(d.spec.template.metadata.labels).toEqual(labels)
    const c = container({})
    expect(c.name).toBe("proxy")
    expect(c.image).toBe("img:1")
    expect(c.args).toEqual(["--config", "/etc/langop/config.yaml", "--port", "4000"])
    expect(c.ports).toEqual([{ name: "http", containerPort: 4000, protocol: "TCP" }])
    expect(c.livenessProbe).toEqual({
      httpGet: { path: "/health/liveliness", port: 4000 },
      initialDelaySeconds: 30,
      timeoutSeconds: 30,
      periodSeconds: 30,
    })
    expect(c.readinessProbe).toEqual({
      httpGet: { path: "/health/readiness", port: 4000 },
      initialDelaySeconds: 30,
      timeoutSeconds: 30,
      periodSeconds: 10,
    })
  })

  it("legacy mode: no args and no API-key env (the image reads /etc/secrets)", () => {
    const c = container({ apiKeySecretRef: { name: "s" } }, { mode: "legacy" })
    expect(c.args).toBeUndefined()
    expect(c.env.map((e) => e.name)).not.toContain("LANGOP_MODEL_API_KEY")
  })

  it("restricted Pod Security Standard, read-only root with an emptyDir /tmp, no API token", () => {
    const d = deployment({})
    const pod = d.spec.template.spec
    expect(pod.automountServiceAccountToken).toBe(false)
    expect(pod.securityContext).toEqual({
      runAsUser: 65534,
      runAsGroup: 65534,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    })
    expect(container({}).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
    })
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: "m-model" } },
      { name: "tmp", emptyDir: {} },
    ])
    expect(container({}).volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/langop", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ])
  })

  it("API key: secretKeyRef env and the original's /etc/secrets item mount", () => {
    const ref = { name: "creds", key: "token" }
    const c = container({ apiKeySecretRef: ref })
    expect(c.env[0]).toEqual({
      name: "LANGOP_MODEL_API_KEY",
      valueFrom: { secretKeyRef: { name: "creds", key: "token" } },
    })
    expect(deployment({ apiKeySecretRef: ref }).spec.template.spec.volumes).toContainEqual({
      name: "secrets",
      secret: { secretName: "creds", items: [{ key: "token", path: "creds/token" }] },
    })
    expect(c.volumeMounts).toContainEqual({ name: "secrets", mountPath: "/etc/secrets", readOnly: true })
  })

  it("bedrock: the whole Secret as envFrom, no key env and no item mount (docs/languagemodel.md LM-5)", () => {
    const c = container({ provider: "bedrock", apiKeySecretRef: { name: "aws" } })
    expect(c.envFrom).toEqual([{ secretRef: { name: "aws" } }])
    expect(c.env.map((e) => e.name)).not.toContain("LANGOP_MODEL_API_KEY")
    expect(c.volumeMounts.map((m) => m.name)).toEqual(["config", "tmp"])
  })

  it("vertex: credentials file mounted, no key env", () => {
    const c = container({ provider: "vertex", apiKeySecretRef: { name: "gcp", key: "sa.json" } })
    expect(c.env.map((e) => e.name)).not.toContain("LANGOP_MODEL_API_KEY")
    expect(c.volumeMounts.map((m) => m.name)).toEqual(["config", "secrets", "tmp"])
  })

  it("env in docs/concepts.md §6.4 order", () => {
    const fields = {
      provider: "openai-compatible",
      endpoint: "http://h",
      apiKeySecretRef: { name: "s" },
      caching: { enabled: true, backend: "redis" },
      observability: { tracing: true, logging: { level: "warn" } },
    }
    const extra = {
      sharedRedis: { host: "r", port: 6379, password: { secretName: "redis", key: "pw", present: true } },
      otlpEndpoint: "otel.observability:4318",
    }
    const c = container(fields, {}, extra)
    expect(c.env).toEqual([
      { name: "LANGOP_MODEL_API_KEY", valueFrom: { secretKeyRef: { name: "s", key: "api-key" } } },
      { name: "LITELLM_LOG", value: "WARNING" },
      { name: "LITELLM_DROP_PARAMS", value: "true" },
      { name: "LANGOP_CACHE_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis", key: "pw" } } },
      { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://otel.observability:4318" },
      { name: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "http/protobuf" },
      { name: "OTEL_SERVICE_NAME", value: "language-operator-model-m" },
      { name: "LITELLM_LOCAL_MODEL_COST_MAP", value: "True" },
    ])
    expect(envNames({})).toEqual(["LITELLM_LOCAL_MODEL_COST_MAP"])
  })

  it("config hash changes with config.yaml, model.json and the Secrets' resourceVersions, nothing else", () => {
    const hash = (fields: Record<string, unknown>, over: Partial<WorkloadInput> = {}) =>
      deployment(fields, over).spec.template.metadata.annotations["langop.io/config-hash"]
    const base = hash({ apiKeySecretRef: { name: "s" } }, { apiKeySecretVersion: "1" })
    expect(base).toMatch(/^[0-9a-f]{64}$/u)
    expect(hash({ apiKeySecretRef: { name: "s" } }, { apiKeySecretVersion: "1" })).toBe(base)
    expect(hash({ apiKeySecretRef: { name: "s" } }, { apiKeySecretVersion: "2" })).not.toBe(base)
    expect(
      hash({ apiKeySecretRef: { name: "s" } }, { apiKeySecretVersion: "1", redisSecretVersion: "9" }),
    ).not.toBe(base)
    expect(hash({ apiKeySecretRef: { name: "s" }, timeout: "1m" }, { apiKeySecretVersion: "1" })).not.toBe(
      base,
    )
    expect(hash({ apiKeySecretRef: { name: "s" } }, { apiKeySecretVersion: "1", image: "img:2" })).toBe(base)
  })

  it("Prometheus annotations only with metrics", () => {
    expect(deployment({ observability: { metrics: true } }).spec.template.metadata.annotations).toMatchObject(
      {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "4000",
        "prometheus.io/path": "/metrics",
      },
    )
    expect(Object.keys(deployment({}).spec.template.metadata.annotations)).toEqual(["langop.io/config-hash"])
  })

  it("is deterministic", () => {
    const fields = { loadBalancing: { endpoints: [{ url: "http://a" }] }, caching: { enabled: true } }
    expect(canonicalJson(deployment(fields))).toBe(canonicalJson(deployment(fields)))
  })
})

describe("Service <name>", () => {
  it("ClusterIP 8000 → 4000 named http, selector = common labels", () => {
    expect(desiredService(id)).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "m", namespace: "ns", labels, ownerReferences: [id.owner] },
      spec: {
        type: "ClusterIP",
        selector: labels,
        ports: [{ name: "http", port: 8000, targetPort: 4000, protocol: "TCP" }],
      },
    })
  })
})

describe("validateModel", () => {
  const v = (fields: Record<string, unknown>, name = "m") => validateModel(name, spec(fields))
  const paths = (fields: Record<string, unknown>) => v(fields).errors.map((e) => e.path)

  it.each([["m"], ["gpt-4o-mini"], ["a".repeat(63)]])("accepts the name %s", (name) => {
    expect(validateModel(name, spec({})).nameErrors).toEqual([])
  })
  it.each([["1model"], ["Model"], ["a".repeat(64)], ["has.dot"], ["trailing-"]])(
    "rejects the name %s",
    (name) => {
      expect(validateModel(name, spec({})).nameErrors.map((e) => e.path)).toEqual(["metadata.name"])
    },
  )

  it.each([
    [{ provider: "openai-compatible" }, ["spec.endpoint"]],
    [{ provider: "azure" }, ["spec.endpoint"]],
    [{ provider: "custom" }, []],
    [{ endpoint: "ftp://x" }, ["spec.endpoint"]],
    [{ endpoint: "not a url" }, ["spec.endpoint"]],
    [
      { loadBalancing: { endpoints: [{ url: "http://ok" }, { url: "/relative" }] } },
      ["spec.loadBalancing.endpoints[1].url"],
    ],
    [{ regions: [{ name: "r", endpoint: "x:y" }] }, ["spec.regions[0].endpoint"]],
    [{ configuration: { temperature: 2.1 } }, ["spec.configuration.temperature"]],
    [{ configuration: { temperature: 0, topP: 1.5 } }, ["spec.configuration.topP"]],
    [
      { configuration: { frequencyPenalty: -2.5, presencePenalty: 2.5 } },
      ["spec.configuration.frequencyPenalty", "spec.configuration.presencePenalty"],
    ],
    [
      { configuration: { additionalParameters: { api_key: "x", model: "y", seed: "1" } } },
      ["spec.configuration.additionalParameters.api_key", "spec.configuration.additionalParameters.model"],
    ],
  ])("errors for %j: %j", (fields, expected) => {
    expect(paths(fields)).toEqual(expected)
  })

  it("warnings: custom without endpoint, azure without api_version", () => {
    expect(v({ provider: "custom" }).warnings.map((w) => w.path)).toEqual(["spec.endpoint"])
    expect(v({ provider: "azure", endpoint: "https://a" }).warnings.map((w) => w.path)).toEqual([
      "spec.configuration.additionalParameters.api_version",
    ])
    expect(
      v({
        provider: "azure",
        endpoint: "https://a",
        configuration: { additionalParameters: { api_version: "v" } },
      }).warnings,
    ).toEqual([])
  })
})

describe("operator setting", () => {
  it("the default proxy image is the LiteLLM version the contract tests verify", () => {
    expect(settingsTable.find((r) => r.name === "modelProxyImage")?.default).toBe(LITELLM_IMAGE)
  })
})
