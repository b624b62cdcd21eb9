/**
 * Automatic egress destinations derived from a resource's spec (docs/concepts.md §9 step 2): a model proxy's
 * provider hosts and endpoints (docs/languagemodel.md §Egress), an agent's message-queue brokers, OTLP
 * collector and API server (docs/languageagent.md §Network). The results feed `EgressRequest.hosts`, `.notes`
 * and `.apiServer` (policy.ts).
 *
 * Guarantees (pure): hosts are deduplicated by host:port (first source kept) in spec order; a destination
 * that cannot be derived (unknown region, URL without host, scheme without default port) becomes a note,
 * never a guessed rule.
 *
 * Decisions: the provider's default host is allowed only for deployments that use it — the primary
 * deployment when neither `spec.endpoint` nor `loadBalancing.endpoints` is set, and bedrock/vertex regions
 * without their own endpoint (LiteLLM sends every request of a deployment to its `api_base`). For
 * bedrock/vertex the known regions are the enabled `regions[].name`s plus `additionalParameters`
 * `aws_region_name` / `vertex_location`. `oauth2.googleapis.com` is added whenever a vertex host is.
 */
import {
  type HostTarget,
  type HostTargetResult,
  HTTP_DEFAULT_PORTS,
  hostTargetFromUrl,
  MESSAGE_QUEUE_DEFAULT_PORTS,
  otlpHostTarget,
} from "./names.ts"

export interface AutomaticHosts {
  readonly hosts: ReadonlyArray<HostTarget>
  readonly notes: ReadonlyArray<string>
}

/** Structurally a `LanguageModelSpec` (only the fields read here). */
export interface ModelEgressSpec {
  readonly provider: string
  readonly endpoint?: string
  readonly configuration?: { readonly additionalParameters?: Readonly<Record<string, string>> }
  readonly loadBalancing?: { readonly endpoints?: ReadonlyArray<{ readonly url: string }> }
  readonly regions?: ReadonlyArray<{
    readonly name: string
    readonly endpoint?: string
    readonly enabled?: boolean
  }>
}

export interface ModelEgressExtras {
  /** The shared Redis, when the model's cache is rendered with it. */
  readonly sharedRedis?: { readonly host: string; readonly port: number }
  /** The OTLP collector setting, when the model's tracing is rendered. */
  readonly otlpEndpoint?: string
}

const collect = () => {
  const hosts = new Map<string, HostTarget>()
  const notes: Array<string> = []
  const add = (result: HostTargetResult) => {
    if (result._tag === "Note") notes.push(result.note)
    else {
      const key = `${result.target.host.toLowerCase()}:${result.target.port}`
      if (!hosts.has(key)) hosts.set(key, result.target)
    }
  }
  const target = (host: string, port: number, source: string) =>
    add({ _tag: "Target", target: { host, port, source } })
  return { add, target, notes, result: (): AutomaticHosts => ({ hosts: [...hosts.values()], notes }) }
}

const regionalHost = (provider: string, region: string): string | undefined => {
  if (provider === "bedrock") return `bedrock-runtime.${region}.amazonaws.com`
  if (provider === "vertex")
    return region === "global" ? "aiplatform.googleapis.com" : `${region}-aiplatform.googleapis.com`
  return undefined
}

const GLOBAL_DEFAULT_HOSTS: Readonly<Record<string, string>> = {
  openai: "api.openai.com",
  anthropic: "api.anthropic.com",
}

export const modelEgressHosts = (spec: ModelEgressSpec, extras: ModelEgressExtras = {}): AutomaticHosts => {
  const out = collect()
  const provider = spec.provider
  const regional = provider === "bedrock" || provider === "vertex"
  const enabledRegions = (spec.regions ?? []).map((r, i) => ({ r, i })).filter(({ r }) => r.enabled !== false)
  const extraRegion =
    spec.configuration?.additionalParameters?.[provider === "bedrock" ? "aws_region_name" : "vertex_location"]
  const knownRegions = [
    ...new Set([
      ...enabledRegions.map(({ r }) => r.name),
      ...(regional && extraRegion !== undefined && extraRegion !== "" ? [extraRegion] : []),
    ]),
  ]
  const defaultHosts = (source: string) => {
    const global = GLOBAL_DEFAULT_HOSTS[provider]
    if (global !== undefined) return out.target(global, 443, `provider ${provider}`)
    if (!regional) {
      out.notes.push(
        `${source}: provider ${provider} without endpoint; no automatic provider rule (add spec.egress)`,
      )
      return
    }
    if (knownRegions.length === 0) {
      out.notes.push(`provider ${provider}: no region known (spec.regions); no automatic provider rule`)
      return
    }
    for (const region of knownRegions) {
      const host = regionalHost(provider, region)
      if (host !== undefined) out.target(host, 443, `provider ${provider} region ${region}`)
    }
  }
  const lbEndpoints = spec.loadBalancing?.endpoints ?? []
  if (lbEndpoints.length > 0)
    lbEndpoints.forEach((e, i) => {
      out.add(hostTargetFromUrl(e.url, HTTP_DEFAULT_PORTS, `spec.loadBalancing.endpoints[${i}].url`))
    })
  else if (spec.endpoint !== undefined && spec.endpoint !== "")
    out.add(hostTargetFromUrl(spec.endpoint, HTTP_DEFAULT_PORTS, "spec.endpoint"))
  else defaultHosts("primary deployment")
  for (const { r, i } of enabledRegions) {
    if (r.endpoint !== undefined && r.endpoint !== "")
      out.add(hostTargetFromUrl(r.endpoint, HTTP_DEFAULT_PORTS, `spec.regions[${i}].endpoint`))
    else if (regional) {
      const host = regionalHost(provider, r.name)
      if (host !== undefined) out.target(host, 443, `provider ${provider} region ${r.name}`)
    }
  }
  if (provider === "vertex" && out.result().hosts.length > 0)
    out.target("oauth2.googleapis.com", 443, "provider vertex")
  if (extras.sharedRedis !== undefined)
    out.target(extras.sharedRedis.host, extras.sharedRedis.port, "shared Redis cache")
  if (extras.otlpEndpoint !== undefined && extras.otlpEndpoint !== "")
    out.add(otlpHostTarget(extras.otlpEndpoint))
  return out.result()
}

/** Structurally the parts of a `LanguageAgentSpec` read here. */
export interface AgentEgressSpec {
  readonly executionMode?: string
  readonly eventTriggers?: ReadonlyArray<{ readonly type: string; readonly source?: string }>
}

export interface AgentAutomaticHosts extends AutomaticHosts {
  /** A `kubernetes-event` trigger is active: allow the API server (`EgressRequest.apiServer`). */
  readonly apiServer: boolean
}

/**
 * Message-queue brokers (event-driven agents only; port from the URL, else the scheme's default) and the
 * OTLP collector (pass `otlpEndpoint` only when the agent's tracing is on and the setting exists).
 */
export const agentEgressHosts = (spec: AgentEgressSpec, otlpEndpoint?: string): AgentAutomaticHosts => {
  const out = collect()
  const triggers = spec.executionMode === "event-driven" ? (spec.eventTriggers ?? []) : []
  triggers.forEach((t, i) => {
    if (t.type !== "message-queue") return
    const where = `spec.eventTriggers[${i}].source`
    if (t.source === undefined || t.source === "")
      out.notes.push(`${where}: message-queue trigger without a broker URL`)
    else out.add(hostTargetFromUrl(t.source, MESSAGE_QUEUE_DEFAULT_PORTS, where))
  })
  if (otlpEndpoint !== undefined && otlpEndpoint !== "") out.add(otlpHostTarget(otlpEndpoint))
  return { ...out.result(), apiServer: triggers.some((t) => t.type === "kubernetes-event") }
}
