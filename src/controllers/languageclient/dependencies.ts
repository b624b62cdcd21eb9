/**
 * Dependency resolution of a LanguageClient (docs/languageclient.md §Dependencies). PURE: lookups answer
 * from whatever the caller read (the informer caches).
 *
 * Models and the persona resolve exactly as for agents (the agent's `orderModelRefs`, `modelUrl` and
 * `resolvePersona` are reused); tools: enabled service-mode tools only (sidecar tools are skipped with a
 * note, docs/languageclient.md CL-11); agents: enabled refs must exist, reachable only with a Service; Secrets (auth providers,
 * session backend, TLS) must exist in the client's namespace.
 *
 * Guarantees: checks run in the reconcile sequence's order (models, tools, agents, persona, Secrets) and
 * the first failing one is reported, naming every missing object; a missing object is a *wait*, an
 * invalid persona a *failure*; list orders follow the spec (models: fallback last, then priority).
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { LanguageClient } from "../../api/languageclient.ts"
import type { LanguageModel } from "../../api/languagemodel.ts"
import type { LanguagePersona } from "../../api/languagepersona.ts"
import type { LanguageTool } from "../../api/languagetool.ts"
import type { ModelReference } from "../../api/shared.ts"
import {
  modelUrl,
  orderModelRefs,
  type ResolvedModel,
  type ResolvedPersona,
  type ResolvedTool,
  resolvePersona,
  toolUrl,
} from "../languageagent/dependencies.ts"
import { AGENT_SERVICE_PORT } from "../languageagent/names.ts"
import { needsService } from "../languageagent/validate.ts"
import { certManagerSecretName, Reasons } from "./names.ts"

export interface Lookups {
  readonly model: (namespace: string, name: string) => LanguageModel | undefined
  readonly tool: (namespace: string, name: string) => LanguageTool | undefined
  readonly agent: (namespace: string, name: string) => LanguageAgent | undefined
  readonly persona: (namespace: string, name: string) => LanguagePersona | undefined
  /** Whether a Secret of that name exists in the client's namespace. */
  readonly secretExists: (name: string) => boolean
}

export interface ResolvedAgent {
  readonly name: string
  readonly namespace: string
  /** Empty when the agent has no Service (unreachable). */
  readonly url: string
  readonly displayName?: string
  readonly description?: string
  readonly icon?: string
}

export interface Resolved {
  readonly ok: true
  readonly models: ReadonlyArray<ResolvedModel>
  /** Models of each enabled region with its own `modelRefs` (others use `models`). */
  readonly regionModels: Readonly<Record<string, ReadonlyArray<ResolvedModel>>>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly agents: ReadonlyArray<ResolvedAgent>
  readonly persona: ResolvedPersona | undefined
  readonly message: string
}

export interface Blocked {
  readonly ok: false
  readonly reason: string
  readonly message: string
  /** True: requeue and wait; false: something must change (phase Failed). */
  readonly wait: boolean
}

export type DependencyOutcome = Resolved | Blocked

const nsOr = (namespace: string | undefined, fallback: string): string =>
  namespace !== undefined && namespace !== "" ? namespace : fallback

const quoted = (keys: ReadonlyArray<string>) => keys.map((k) => `"${k}"`).join(", ")
const notFound = (what: string, keys: ReadonlyArray<string>) =>
  `${what} ${quoted(keys)} not found; waiting for ${keys.length > 1 ? "them" : "it"}`

/** `http://<agent>.<ns>.svc.<domain>:80` for agents with a Service. */
export const agentUrl = (name: string, namespace: string, clusterDomain: string): string =>
  `http://${name}.${namespace}.svc.${clusterDomain}:${AGENT_SERVICE_PORT}`

const resolveModelRefs = (
  refs: ReadonlyArray<ModelReference>,
  namespace: string,
  lookups: Lookups,
  clusterDomain: string,
  missing: Array<string>,
): ReadonlyArray<ResolvedModel> =>
  orderModelRefs(refs).flatMap((ref) => {
    const ns = nsOr(ref.namespace, namespace)
    const model = lookups.model(ns, ref.name)
    if (model === undefined) {
      if (!missing.includes(`${ns}/${ref.name}`)) missing.push(`${ns}/${ref.name}`)
      return []
    }
    return [
      {
        name: ref.name,
        namespace: ns,
        modelName: model.spec.modelName,
        provider: model.spec.provider,
        url: modelUrl(ref.name, ns, clusterDomain),
        role: ref.role,
        ...(ref.priority !== undefined ? { priority: ref.priority } : {}),
        ready: model.status?.phase === "Ready",
      },
    ]
  })

/** Enabled regions (disabled entries are ignored). */
export const enabledRegions = (client: LanguageClient) => (client.spec.regions ?? []).filter((r) => r.enabled)

/** Names of the Secrets the client's pods or Ingress use (existence is required). */
export const referencedSecrets = (client: LanguageClient): ReadonlyArray<string> => {
  const spec = client.spec
  const names = new Set<string>()
  if (spec.authentication?.enabled === true)
    for (const p of spec.authentication.providers ?? [])
      if (p.enabled && p.secretRef) names.add(p.secretRef.name)
  const session = spec.sessionConfig?.backendConfig?.secretRef
  if (session !== undefined) names.add(session.name)
  const tls = tlsSecretName(client)
  if (tls !== undefined && !(spec.tls?.certManager === true && spec.ingress?.enabled === true)) names.add(tls)
  return [...names].sort()
}

/**
 * The TLS Secret cert-manager issues from the client's own Certificate: TLS from cert-manager (no
 * `secretRef`) terminated by the pods themselves (no Ingress, whose annotation would make cert-manager
 * issue it). Undefined when no such Certificate is wanted.
 */
export const issuedTlsSecret = (client: LanguageClient): string | undefined => {
  const tls = client.spec.tls
  return tls?.enabled === true &&
    tls.certManager &&
    tls.secretRef === undefined &&
    client.spec.ingress?.enabled !== true
    ? certManagerSecretName(client.metadata.name ?? "")
    : undefined
}

/** Referenced Secrets that must exist before the workload is written: all but one cert-manager issues. */
export const requiredSecrets = (client: LanguageClient): ReadonlyArray<string> => {
  const issued = issuedTlsSecret(client)
  return referencedSecrets(client).filter((name) => name !== issued)
}

/** The TLS Secret name when TLS is enabled: `tls.secretRef.name`, or `<name>-tls` with cert-manager. */
export const tlsSecretName = (client: LanguageClient): string | undefined => {
  const tls = client.spec.tls
  if (tls?.enabled !== true) return undefined
  if (tls.secretRef !== undefined) return tls.secretRef.name
  return tls.certManager ? certManagerSecretName(client.metadata.name ?? "") : undefined
}

export const resolveDependencies = (
  client: LanguageClient,
  lookups: Lookups,
  clusterDomain: string,
): DependencyOutcome => {
  const namespace = client.metadata.namespace ?? ""
  const spec = client.spec
  const missingModels: Array<string> = []
  const models = resolveModelRefs(spec.modelRefs, namespace, lookups, clusterDomain, missingModels)
  const regionModels: Record<string, ReadonlyArray<ResolvedModel>> = {}
  for (const region of enabledRegions(client))
    if ((region.modelRefs ?? []).length > 0)
      regionModels[region.name] = resolveModelRefs(
        region.modelRefs ?? [],
        namespace,
        lookups,
        clusterDomain,
        missingModels,
      )
  if (missingModels.length > 0)
    return {
      ok: false,
      reason: Reasons.ModelNotFound,
      message: notFound("LanguageModel", missingModels),
      wait: true,
    }

  const missingTools: Array<string> = []
  const skipped: Array<string> = []
  const tools: Array<ResolvedTool> = []
  for (const ref of spec.toolRefs ?? []) {
    if (!ref.enabled) continue
    const ns = nsOr(ref.namespace, namespace)
    const tool = lookups.tool(ns, ref.name)
    if (tool === undefined) missingTools.push(`${ns}/${ref.name}`)
    else if (tool.spec.deploymentMode === "sidecar") skipped.push(`${ns}/${ref.name}`)
    else
      tools.push({
        name: ref.name,
        namespace: ns,
        type: tool.spec.type,
        deploymentMode: tool.spec.deploymentMode,
        port: tool.spec.port,
        url: toolUrl(tool, clusterDomain),
        requireApproval: ref.requireApproval,
        tool,
      })
  }
  if (missingTools.length > 0)
    return {
      ok: false,
      reason: Reasons.ToolNotFound,
      message: notFound("LanguageTool", missingTools),
      wait: true,
    }

  const missingAgents: Array<string> = []
  const unreachable: Array<string> = []
  const agents: Array<ResolvedAgent> = []
  for (const ref of spec.agentRefs ?? []) {
    if (!ref.enabled) continue
    const ns = nsOr(ref.namespace, namespace)
    const agent = lookups.agent(ns, ref.name)
    if (agent === undefined) {
      missingAgents.push(`${ns}/${ref.name}`)
      continue
    }
    const reachable = needsService(agent)
    if (!reachable) unreachable.push(`${ns}/${ref.name}`)
    agents.push({
      name: ref.name,
      namespace: ns,
      url: reachable ? agentUrl(ref.name, ns, clusterDomain) : "",
      ...(ref.displayName !== undefined ? { displayName: ref.displayName } : {}),
      ...(ref.description !== undefined ? { description: ref.description } : {}),
      ...(ref.icon !== undefined ? { icon: ref.icon } : {}),
    })
  }
  if (missingAgents.length > 0)
    return {
      ok: false,
      reason: Reasons.AgentNotFound,
      message: notFound("LanguageAgent", missingAgents),
      wait: true,
    }

  const persona = resolvePersona(client, lookups)
  if (!persona.ok) return persona

  const missingSecrets = requiredSecrets(client).filter((name) => !lookups.secretExists(name))
  if (missingSecrets.length > 0)
    return {
      ok: false,
      reason: Reasons.SecretNotFound,
      message: notFound(
        "Secret",
        missingSecrets.map((s) => `${namespace}/${s}`),
      ),
      wait: true,
    }

  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`
  const notReady = [...models, ...Object.values(regionModels).flat()]
    .filter((m) => !m.ready)
    .map((m) => `${m.namespace}/${m.name}`)
  const message = [
    `${plural(models.length, "model")}, ${plural(tools.length, "tool")} and ${plural(agents.length, "agent")} resolved${persona.persona !== undefined ? `; persona "${persona.persona.namespace}/${persona.persona.name}"` : ""}`,
    ...(skipped.length > 0
      ? [`sidecar-mode tools skipped (clients get no sidecars): ${quoted(skipped)}`]
      : []),
    ...(unreachable.length > 0
      ? [
          `agents without a Service (not interactive or webhook-triggered), omitted from AGENT_ENDPOINTS: ${quoted(unreachable)}`,
        ]
      : []),
    ...(notReady.length > 0 ? [`models not Ready yet: ${quoted([...new Set(notReady)])}`] : []),
  ].join("; ")
  return { ok: true, models, regionModels, tools, agents, persona: persona.persona, message }
}
