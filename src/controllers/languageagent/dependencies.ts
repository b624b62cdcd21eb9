/**
 * Dependency resolution of a LanguageAgent (docs/languageagent.md §Dependencies, §Memory, §Safety; docs/concepts.md X-5).
 * PURE: lookups answer from whatever the caller read (the informer caches).
 *
 * Two outcomes, reported as two conditions: models, tools, sidecar checks and the memory Secret
 * (`DependenciesResolved`), and the persona (`PersonaResolved`). Each is either resolved or blocked;
 * a blocked outcome is a *wait* (the cause may go away by itself: requeue after the dependency wait) or a
 * *failure* (the spec or a dependency must change: phase `Failed`).
 *
 * Guarantees: the resolved model list is in the spec's order (fallback last, then priority ascending with
 * unset priorities after set ones, then list order — docs/languageagent.md AG-3); tools keep `toolRefs` order; disabled tool
 * references are skipped without lookup; blocked tools (docs/languageagent.md AG-6) are excluded after lookup; messages name every
 * missing object, sorted as in the spec.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { LanguageModel } from "../../api/languagemodel.ts"
import type { LanguagePersona } from "../../api/languagepersona.ts"
import type { LanguageTool } from "../../api/languagetool.ts"
import type { ModelReference, PersonaReference } from "../../api/shared.ts"
import {
  type EffectivePersona,
  effectiveKnowledgeSources,
  keyString,
  resolveChain,
} from "../../domain/persona-chain.ts"
import { type SidecarTool, sidecarToolOf } from "../../domain/sidecars.ts"
import {
  AGENT_HTTP_PORT,
  CONFIG_VOLUME,
  KNOWLEDGE_DIR,
  knowledgeVolumeName,
  MODEL_SERVICE_PORT,
  Reasons,
  WORKSPACE_VOLUME,
} from "./names.ts"
import { workspaceEnabled } from "./validate.ts"

export interface Lookups {
  readonly model: (namespace: string, name: string) => LanguageModel | undefined
  readonly tool: (namespace: string, name: string) => LanguageTool | undefined
  readonly persona: (namespace: string, name: string) => LanguagePersona | undefined
  /** The keys of a Secret in the agent's namespace, or undefined when it does not exist. */
  readonly secretKeys: (name: string) => ReadonlyArray<string> | undefined
}

export interface ResolvedModel {
  readonly name: string
  readonly namespace: string
  readonly modelName: string
  readonly provider: string
  readonly url: string
  readonly role: ModelReference["role"]
  readonly priority?: number
  readonly ready: boolean
}

export interface ResolvedTool {
  readonly name: string
  readonly namespace: string
  readonly type: "mcp" | "openapi"
  readonly deploymentMode: "service" | "sidecar"
  readonly port: number
  readonly url: string
  readonly requireApproval: boolean
  readonly tool: LanguageTool
}

export interface KnowledgeMount {
  readonly volume: string
  readonly sourceName: string
  readonly secretName: string
  readonly key: string
  readonly mountPath: string
}

export interface ResolvedPersona {
  readonly name: string
  readonly namespace: string
  readonly effective: EffectivePersona
  readonly knowledge: ReadonlyArray<KnowledgeMount>
}

export type Blocked = {
  readonly ok: false
  readonly reason: string
  readonly message: string
  /** True: requeue and wait; false: the spec (or a dependency) must change (phase Failed). */
  readonly wait: boolean
}

export type DependencyOutcome =
  | {
      readonly ok: true
      readonly models: ReadonlyArray<ResolvedModel>
      readonly tools: ReadonlyArray<ResolvedTool>
      readonly sidecars: ReadonlyArray<SidecarTool>
      readonly message: string
    }
  | Blocked

export type PersonaOutcome =
  | {
      readonly ok: true
      readonly persona: ResolvedPersona | undefined
      readonly reason: string
      readonly message: string
    }
  | Blocked

export interface Resolution {
  readonly dependencies: DependencyOutcome
  readonly persona: PersonaOutcome
}

const nsOr = (namespace: string | undefined, fallback: string): string =>
  namespace !== undefined && namespace !== "" ? namespace : fallback

export const modelUrl = (name: string, namespace: string, clusterDomain: string): string =>
  `http://${name}.${namespace}.svc.${clusterDomain}:${MODEL_SERVICE_PORT}`

export const toolUrl = (tool: LanguageTool, clusterDomain: string): string =>
  tool.spec.deploymentMode === "sidecar"
    ? `http://localhost:${tool.spec.port}`
    : `http://${tool.metadata.name ?? ""}.${tool.metadata.namespace ?? ""}.svc.${clusterDomain}:${tool.spec.port}`

/** Stable sort: role `fallback` last, then priority ascending (unset after set), then list order (docs/languageagent.md AG-3). */
export const orderModelRefs = (refs: ReadonlyArray<ModelReference>): ReadonlyArray<ModelReference> =>
  refs
    .map((ref, index) => ({ ref, index }))
    .sort((a, b) => {
      const fa = a.ref.role === "fallback" ? 1 : 0
      const fb = b.ref.role === "fallback" ? 1 : 0
      if (fa !== fb) return fa - fb
      const pa = a.ref.priority
      const pb = b.ref.priority
      if (pa !== undefined && pb !== undefined && pa !== pb) return pa - pb
      if (pa !== undefined && pb === undefined) return -1
      if (pa === undefined && pb !== undefined) return 1
      return a.index - b.index
    })
    .map((x) => x.ref)

const blocked = (reason: string, message: string, wait: boolean): Blocked => ({
  ok: false,
  reason,
  message,
  wait,
})

/** Whether the agent serves HTTP on 8080 itself (AGENT_WEBHOOK_PORT; docs/languageagent.md AG-16). */
export const servesHttp = (agent: LanguageAgent): boolean =>
  agent.spec.executionMode === "interactive" || agent.spec.executionMode === "event-driven"

const sidecarProblems = (
  agent: LanguageAgent,
  sidecars: ReadonlyArray<ResolvedTool>,
  knowledgeVolumes: ReadonlyArray<string>,
): Blocked | undefined => {
  const namespace = agent.metadata.namespace ?? ""
  const foreign = sidecars.filter((t) => t.namespace !== namespace)
  if (foreign.length > 0)
    return blocked(
      Reasons.CrossNamespaceSidecarUnsupported,
      `sidecar-mode LanguageTool ${foreign.map((t) => `"${t.namespace}/${t.name}"`).join(", ")} is in another namespace; sidecar tools must be in the agent's namespace "${namespace}" (use a service-mode tool or a tool in this namespace)`,
      false,
    )
  const ports = new Map<number, string>()
  for (const t of sidecars) {
    if (servesHttp(agent) && t.port === AGENT_HTTP_PORT)
      return blocked(
        Reasons.SidecarPortConflict,
        `sidecar tool "${t.name}" listens on port ${AGENT_HTTP_PORT}, which the ${agent.spec.executionMode} agent uses itself; set the tool's spec.port to another port`,
        false,
      )
    const other = ports.get(t.port)
    if (other !== undefined)
      return blocked(
        Reasons.SidecarPortConflict,
        `sidecar tools "${other}" and "${t.name}" both listen on port ${t.port}`,
        false,
      )
    ports.set(t.port, t.name)
  }
  const owners = new Map<string, string>()
  if (workspaceEnabled(agent)) owners.set(WORKSPACE_VOLUME, "the agent (workspace)")
  owners.set(CONFIG_VOLUME, "the agent (configuration)")
  for (const v of knowledgeVolumes) owners.set(v, "the agent (persona knowledge source)")
  for (const v of agent.spec.volumes ?? []) owners.set(v.name, "the agent's spec.volumes")
  for (const t of sidecars)
    for (const v of t.tool.spec.volumes ?? []) {
      const owner = owners.get(v.name)
      if (owner !== undefined)
        return blocked(
          Reasons.SidecarVolumeConflict,
          `volume "${v.name}" of sidecar tool "${t.name}" clashes with a volume of ${owner}; rename one of them`,
          false,
        )
      owners.set(v.name, `sidecar tool "${t.name}"`)
    }
  return undefined
}

const resolveModels = (agent: LanguageAgent, lookups: Lookups, clusterDomain: string) => {
  const namespace = agent.metadata.namespace ?? ""
  const missing: Array<string> = []
  const models: Array<ResolvedModel> = []
  for (const ref of orderModelRefs(agent.spec.modelRefs)) {
    const ns = nsOr(ref.namespace, namespace)
    const model = lookups.model(ns, ref.name)
    if (model === undefined) {
      missing.push(`${ns}/${ref.name}`)
      continue
    }
    models.push({
      name: ref.name,
      namespace: ns,
      modelName: model.spec.modelName,
      provider: model.spec.provider,
      url: modelUrl(ref.name, ns, clusterDomain),
      role: ref.role,
      ...(ref.priority !== undefined ? { priority: ref.priority } : {}),
      ready: model.status?.phase === "Ready",
    })
  }
  return { models, missing }
}

const resolveTools = (agent: LanguageAgent, lookups: Lookups, clusterDomain: string) => {
  const namespace = agent.metadata.namespace ?? ""
  const blockedNames = new Set(agent.spec.safetyConfig?.blockedTools ?? [])
  const missing: Array<string> = []
  const tools: Array<ResolvedTool> = []
  for (const ref of agent.spec.toolRefs ?? []) {
    if (!ref.enabled) continue
    const ns = nsOr(ref.namespace, namespace)
    const tool = lookups.tool(ns, ref.name)
    if (tool === undefined) {
      missing.push(`${ns}/${ref.name}`)
      continue
    }
    if (blockedNames.has(ref.name)) continue
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
  return { tools, missing }
}

const memoryProblem = (agent: LanguageAgent, lookups: Lookups): Blocked | undefined => {
  const store = agent.spec.memoryStore
  const ref = store?.connectionSecretRef
  if (store === undefined || store.type === "ephemeral" || ref === undefined) return undefined
  const keys = lookups.secretKeys(ref.name)
  if (keys === undefined)
    return blocked(
      Reasons.MemoryStoreSecretMissing,
      `Secret "${ref.name}" (memory store connection) not found in namespace "${agent.metadata.namespace ?? ""}"; waiting for it`,
      true,
    )
  if (!keys.includes(ref.key))
    return blocked(
      Reasons.MemoryStoreSecretMissing,
      `Secret "${ref.name}" has no key "${ref.key}" (memory store connection); waiting for it`,
      true,
    )
  return undefined
}

/** What persona resolution reads of its owner (agents, and clients reuse it). */
export interface PersonaOwner {
  readonly metadata: { readonly namespace?: string | undefined }
  readonly spec: { readonly personaRef?: PersonaReference | undefined }
}

/** The persona part: the referenced persona must be Ready; its effective persona is recomputed from live objects. */
export const resolvePersona = (agent: PersonaOwner, lookups: Pick<Lookups, "persona">): PersonaOutcome => {
  const ref = agent.spec.personaRef
  if (ref === undefined || ref.name === "")
    return { ok: true, persona: undefined, reason: Reasons.NoPersona, message: "No persona referenced" }
  const namespace = agent.metadata.namespace ?? ""
  const ns = nsOr(ref.namespace, namespace)
  const key = `${ns}/${ref.name}`
  const persona = lookups.persona(ns, ref.name)
  if (persona === undefined)
    return blocked(Reasons.PersonaNotFound, `LanguagePersona "${key}" not found; waiting for it`, true)
  const phase = persona.status?.phase
  if (phase === "Error")
    return blocked(
      Reasons.PersonaInvalid,
      `LanguagePersona "${key}" is invalid: ${persona.status?.message ?? "see its status"}`,
      false,
    )
  if (phase !== "Ready")
    return blocked(
      Reasons.PersonaNotReady,
      `LanguagePersona "${key}" is not Ready (phase ${phase ?? "unset"}); waiting for it`,
      true,
    )
  const chain = resolveChain(persona, (k) => lookups.persona(k.namespace, k.name))
  switch (chain._tag) {
    case "ParentNotFound":
      return blocked(
        Reasons.PersonaNotReady,
        `ancestor persona "${keyString(chain.missing)}" of "${key}" not found; waiting for it`,
        true,
      )
    case "Cycle":
    case "TooDeep":
      return blocked(
        Reasons.PersonaInvalid,
        `LanguagePersona "${key}" has an invalid inheritance chain (${chain._tag === "Cycle" ? "circular" : "too deep"})`,
        false,
      )
    case "Resolved": {
      const knowledge: Array<KnowledgeMount> = []
      const notes: Array<string> = []
      effectiveKnowledgeSources(chain.chain).forEach(({ source, declaredBy }, index) => {
        const secretRef = source.secretRef
        if (source.enabled === false || secretRef === undefined) return
        const secretNs = nsOr(secretRef.namespace, declaredBy.namespace)
        if (secretNs !== namespace) {
          notes.push(
            `knowledge source "${source.name}" skipped: its Secret "${secretNs}/${secretRef.name}" is not in the agent's namespace`,
          )
          return
        }
        knowledge.push({
          volume: knowledgeVolumeName(index),
          sourceName: source.name,
          secretName: secretRef.name,
          key: secretRef.key,
          mountPath: `${KNOWLEDGE_DIR}/${source.name}/`,
        })
      })
      const via =
        chain.chain.length > 1
          ? ` (inherits ${chain.chain
              .slice(0, -1)
              .map((p) => `"${p.metadata.name ?? ""}"`)
              .join(", ")})`
          : ""
      return {
        ok: true,
        persona: { name: ref.name, namespace: ns, effective: chain.effective, knowledge },
        reason: Reasons.Resolved,
        message: [`Persona "${key}" applied${via}`, ...notes].join("; "),
      }
    }
  }
}

export const resolveDependencies = (
  agent: LanguageAgent,
  lookups: Lookups,
  clusterDomain: string,
): Resolution => {
  const persona = resolvePersona(agent, lookups)
  const { models, missing: missingModels } = resolveModels(agent, lookups, clusterDomain)
  const { tools, missing: missingTools } = resolveTools(agent, lookups, clusterDomain)
  const found = (what: string, list: ReadonlyArray<string>) =>
    `${what} ${list.map((k) => `"${k}"`).join(", ")} not found; waiting for ${list.length > 1 ? "them" : "it"}`
  if (missingModels.length > 0)
    return {
      persona,
      dependencies: blocked(Reasons.ModelNotFound, found("LanguageModel", missingModels), true),
    }
  if (missingTools.length > 0)
    return { persona, dependencies: blocked(Reasons.ToolNotFound, found("LanguageTool", missingTools), true) }
  const sidecarTools = tools.filter((t) => t.deploymentMode === "sidecar")
  const knowledgeVolumes = persona.ok ? (persona.persona?.knowledge ?? []).map((k) => k.volume) : []
  const problem = sidecarProblems(agent, sidecarTools, knowledgeVolumes) ?? memoryProblem(agent, lookups)
  if (problem !== undefined) return { persona, dependencies: problem }
  const notReady = models.filter((m) => !m.ready).map((m) => `"${m.namespace}/${m.name}"`)
  const message = [
    `${models.length} model${models.length === 1 ? "" : "s"} and ${tools.length} tool${tools.length === 1 ? "" : "s"} resolved`,
    ...(notReady.length > 0 ? [`models not Ready yet: ${notReady.join(", ")}`] : []),
  ].join("; ")
  return {
    persona,
    dependencies: {
      ok: true,
      models,
      tools,
      sidecars: sidecarTools.map((t) => sidecarToolOf(t.tool)),
      message,
    },
  }
}
