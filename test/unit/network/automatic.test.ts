import { describe, expect, it } from "vitest"
import { agentEgressHosts, type ModelEgressSpec, modelEgressHosts } from "../../../src/network/automatic.ts"
import { buildEgressPolicy, type EgressRequest } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../src/network/settings.ts"
import { ip, nsPeer, tcp, world } from "./fixtures.ts"

const hostsOf = (spec: ModelEgressSpec, extras = {}) =>
  modelEgressHosts(spec, extras).hosts.map((h) => `${h.host}:${h.port}`)

describe("model provider destinations (docs/languagemodel.md §Egress)", () => {
  it.each<[string, ModelEgressSpec, ReadonlyArray<string>]>([
    ["openai default host", { provider: "openai" }, ["api.openai.com:443"]],
    ["anthropic default host", { provider: "anthropic" }, ["api.anthropic.com:443"]],
    [
      "endpoint replaces the default host",
      { provider: "openai", endpoint: "https://gw.example.com/v1" },
      ["gw.example.com:443"],
    ],
    [
      "http endpoint → port 80",
      { provider: "openai-compatible", endpoint: "http://llm.example.com" },
      ["llm.example.com:80"],
    ],
    [
      "explicit port",
      { provider: "azure", endpoint: "https://x.openai.azure.com:8443/" },
      ["x.openai.azure.com:8443"],
    ],
    [
      "load-balanced endpoints replace spec.endpoint; duplicates once",
      {
        provider: "openai-compatible",
        endpoint: "https://ignored.example.com",
        loadBalancing: {
          endpoints: [
            { url: "https://a.example.com" },
            { url: "http://b.example.com:8080" },
            { url: "https://a.example.com/v1" },
          ],
        },
      },
      ["a.example.com:443", "b.example.com:8080"],
    ],
    [
      "enabled regional endpoints; disabled ones skipped",
      {
        provider: "openai-compatible",
        endpoint: "https://main.example.com",
        regions: [
          { name: "eu", endpoint: "https://eu.example.com" },
          { name: "us", endpoint: "https://us.example.com", enabled: false },
        ],
      },
      ["main.example.com:443", "eu.example.com:443"],
    ],
    [
      "bedrock: one runtime host per known region",
      { provider: "bedrock", regions: [{ name: "us-east-1" }, { name: "eu-west-1" }] },
      ["bedrock-runtime.us-east-1.amazonaws.com:443", "bedrock-runtime.eu-west-1.amazonaws.com:443"],
    ],
    [
      "bedrock: region from additionalParameters.aws_region_name",
      { provider: "bedrock", configuration: { additionalParameters: { aws_region_name: "ap-south-1" } } },
      ["bedrock-runtime.ap-south-1.amazonaws.com:443"],
    ],
    [
      "vertex: regional hosts plus oauth2",
      { provider: "vertex", regions: [{ name: "us-central1" }] },
      ["us-central1-aiplatform.googleapis.com:443", "oauth2.googleapis.com:443"],
    ],
    ["bedrock without a region: nothing", { provider: "bedrock" }, []],
  ])("%s", (_, spec, expected) => {
    expect(hostsOf(spec)).toEqual(expected)
  })

  it("bedrock/vertex without a region and custom without endpoint leave a note", () => {
    expect(modelEgressHosts({ provider: "bedrock" }).notes).toEqual([
      "provider bedrock: no region known (spec.regions); no automatic provider rule",
    ])
    expect(modelEgressHosts({ provider: "custom" }).notes[0]).toContain("provider custom without endpoint")
  })

  it("shared Redis and OTLP collector (no scheme → http)", () => {
    expect(
      hostsOf(
        { provider: "openai" },
        { sharedRedis: { host: "redis.infra.svc", port: 6379 }, otlpEndpoint: "otel.obs.svc:4317" },
      ),
    ).toEqual(["api.openai.com:443", "redis.infra.svc:6379", "otel.obs.svc:4317"])
  })

  it("an unparsable endpoint is a note, not a rule", () => {
    const result = modelEgressHosts({ provider: "openai-compatible", endpoint: "not a url" })
    expect(result.hosts).toEqual([])
    expect(result.notes).toEqual(['spec.endpoint: "not a url" is not a URL'])
  })
})

describe("model proxy policies", () => {
  const model = (spec: ModelEgressSpec): EgressRequest => {
    const automatic = modelEgressHosts(spec)
    return {
      kind: "LanguageModel",
      name: "llm",
      namespace: "ai",
      egress: [],
      hosts: automatic.hosts,
      notes: automatic.notes,
    }
  }

  it("provider host resolved → /32 and /128 peers on 443", () => {
    const result = buildEgressPolicy(
      model({ provider: "openai" }),
      world({ "api.openai.com": ["2606:4700::6810:1", "162.159.140.245", "172.66.0.243"] }),
      DEFAULT_EGRESS_SETTINGS,
    )
    expect(result.policy.spec.egress?.slice(2)).toEqual([
      { to: [ip("162.159.140.245/32"), ip("172.66.0.243/32"), ip("2606:4700::6810:1/128")], ports: tcp(443) },
    ])
    expect(result.hasDnsPeers).toBe(true)
  })

  it("provider host unresolved → no rule at all (fail closed), DNSResolutionFailed naming the source", () => {
    const result = buildEgressPolicy(
      model({ provider: "anthropic" }),
      world({ "api.anthropic.com": "Timeout" }),
      DEFAULT_EGRESS_SETTINGS,
    )
    expect(result.policy.spec.egress?.length).toBe(2)
    expect(result.condition.reason).toBe("DNSResolutionFailed")
    expect(result.condition.message).toContain(
      "provider anthropic (api.anthropic.com:443): api.anthropic.com: lookup timed out",
    )
  })

  it("in-cluster endpoint (the Ollama example) → Service selector and its targetPort, never the VIP", () => {
    const ollama = {
      namespace: "default",
      name: "ollama",
      selector: { app: "ollama" },
      ports: [{ port: 80, targetPort: "http" }],
    }
    const result = buildEgressPolicy(
      model({ provider: "openai-compatible", endpoint: "http://ollama.default.svc.cluster.local" }),
      world({}, [ollama]),
      DEFAULT_EGRESS_SETTINGS,
    )
    expect(result.policy.spec.egress?.slice(2)).toEqual([
      { to: [nsPeer("default", { app: "ollama" })], ports: [{ protocol: "TCP", port: "http" }] },
    ])
    expect(result.condition.status).toBe("True")
  })

  it("numeric targetPort is used; an endpoint given as an IP is an ipBlock", () => {
    const vllm = {
      namespace: "ai",
      name: "vllm",
      selector: { app: "vllm" },
      ports: [{ port: 8000, targetPort: 8001 }],
    }
    const result = buildEgressPolicy(
      model({
        provider: "openai-compatible",
        loadBalancing: { endpoints: [{ url: "http://vllm:8000/v1" }, { url: "http://[2001:db8::9]:8080" }] },
      }),
      world({}, [vllm]),
      DEFAULT_EGRESS_SETTINGS,
    )
    expect(result.policy.spec.egress?.slice(2)).toEqual([
      { to: [ip("2001:db8::9/128")], ports: tcp(8080) },
      { to: [nsPeer("ai", { app: "vllm" })], ports: tcp(8001) },
    ])
  })

  it("a provider note shows in a True condition's message", () => {
    const result = buildEgressPolicy(model({ provider: "bedrock" }), world(), DEFAULT_EGRESS_SETTINGS)
    expect(result.condition.status).toBe("True")
    expect(result.condition.message).toContain("no region known")
  })
})

describe("agent automatic destinations", () => {
  it("message-queue brokers of event-driven agents, with scheme default ports; API server for kubernetes-event", () => {
    const result = agentEgressHosts({
      executionMode: "event-driven",
      eventTriggers: [
        { type: "message-queue", source: "nats://nats.infra.svc" },
        { type: "message-queue", source: "kafka://broker.example.com:19092" },
        { type: "message-queue", source: "mqtt://broker.example.com" },
        { type: "kubernetes-event", source: "Pod" },
        { type: "webhook", source: "/hook" },
      ],
    })
    expect(result.hosts.map((h) => `${h.host}:${h.port}`)).toEqual([
      "nats.infra.svc:4222",
      "broker.example.com:19092",
    ])
    expect(result.notes).toEqual([
      'spec.eventTriggers[2].source: no port in "mqtt://broker.example.com" and no default port for scheme mqtt',
    ])
    expect(result.apiServer).toBe(true)
  })

  it("triggers are ignored outside event-driven mode; the OTLP collector is added when given", () => {
    const result = agentEgressHosts(
      { executionMode: "autonomous", eventTriggers: [{ type: "message-queue", source: "nats://n:4222" }] },
      "https://otel.example.com",
    )
    expect(result.hosts.map((h) => `${h.host}:${h.port}`)).toEqual(["otel.example.com:443"])
    expect(result.apiServer).toBe(false)
  })
})
