// The scale workload (N service-mode LanguageTools; N LanguageAgents that each reference one shared
// model, one service tool, one sidecar tool and a persona with a parent) and what "converged" means for
// it: every object Ready at its generation, exactly one child of each kind per owner, no orphan, nothing
// stuck deleting.
import { Effect } from "effect"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin, Langop, type ResourceDescriptor } from "../../../src/kube/resources.ts"

const GV = "langop.io/v1alpha1"
const obj = (kind: string, namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: GV,
  kind,
  metadata: { name, namespace },
  spec,
})

export const toolName = (i: number): string => `tool-${i}`
export const agentName = (i: number): string => `agent-${i}`

export const tools = (namespace: string, n: number): ReadonlyArray<KubeObject> =>
  Array.from({ length: n }, (_, i) =>
    obj("LanguageTool", namespace, toolName(i), {
      image: "ghcr.io/langop/mcp-web-fetch:1.0",
      deploymentMode: "service",
      port: 8080,
    }),
  )

/** What every agent references; applied (and Ready) before the agents. */
export const agentDependencies = (namespace: string): ReadonlyArray<KubeObject> => [
  obj("LanguageModel", namespace, "shared-model", { provider: "openai", modelName: "gpt-4o-mini" }),
  obj("LanguageTool", namespace, "shared-service-tool", {
    image: "ghcr.io/langop/mcp-web-fetch:1.0",
    deploymentMode: "service",
    port: 8080,
  }),
  obj("LanguageTool", namespace, "shared-sidecar-tool", {
    image: "ghcr.io/langop/mcp-filesystem:1.0",
    deploymentMode: "sidecar",
    port: 9000,
  }),
  obj("LanguagePersona", namespace, "base-persona", {
    displayName: "Base",
    description: "Common rules",
    systemPrompt: "Be accurate and brief.",
  }),
  obj("LanguagePersona", namespace, "support-persona", {
    parentPersona: { name: "base-persona" },
    displayName: "Support",
    description: "First-line support",
    systemPrompt: "Answer from the documentation.",
  }),
]

export const agents = (namespace: string, n: number, instructions = "Help with product questions.") =>
  Array.from({ length: n }, (_, i) =>
    obj("LanguageAgent", namespace, agentName(i), {
      image: "ghcr.io/langop/agent:1.0",
      instructions,
      modelRefs: [{ name: "shared-model" }],
      toolRefs: [{ name: "shared-service-tool" }, { name: "shared-sidecar-tool" }],
      personaRef: { name: "support-persona" },
    }),
  ) as ReadonlyArray<KubeObject>

/** One `kubectl apply --server-side` of all objects (a List), through the API server and our webhooks. */
export const asList = (objects: ReadonlyArray<KubeObject>): string =>
  JSON.stringify({ apiVersion: "v1", kind: "List", items: objects })

interface Meta {
  readonly name: string
  readonly uid: string
  readonly generation?: number
  readonly deletionTimestamp?: string
  readonly finalizers?: ReadonlyArray<string>
  readonly ownerReferences?: ReadonlyArray<{
    readonly kind: string
    readonly name: string
    readonly uid: string
    readonly controller?: boolean
  }>
}
type Listed = KubeObject & { readonly metadata: Meta }

const readyAtGeneration = (o: Listed): boolean => {
  const status = o.status as
    | { conditions?: ReadonlyArray<{ type: string; status: string; observedGeneration?: number }> }
    | undefined
  const ready = status?.conditions?.find((c) => c.type === "Ready")
  return ready?.status === "True" && ready.observedGeneration === o.metadata.generation
}

export const ownedKinds = {
  LanguageAgent: [Builtin.Deployment, Builtin.ConfigMap, Builtin.NetworkPolicy],
  LanguageTool: [Builtin.Deployment, Builtin.Service, Builtin.NetworkPolicy],
} as const

export interface Census {
  /** Agents and tools (the owners under test). */
  readonly objects: number
  readonly ready: number
  readonly notReady: ReadonlyArray<string>
  /** Owners with more than one child of a kind. */
  readonly duplicated: ReadonlyArray<string>
  /** Owners with no child of a kind (service-mode tools and agents must have all three). */
  readonly missing: ReadonlyArray<string>
  /** Children whose langop owner no longer exists (by uid). */
  readonly orphans: ReadonlyArray<string>
  /** Objects with a deletionTimestamp (deleting, not yet gone). */
  readonly deleting: ReadonlyArray<string>
  /** Children of each kind that a langop object owns. */
  readonly children: number
}

/** The state of a namespace, from the API server (not a cache). */
export const census = (namespace: string): Effect.Effect<Census, unknown, KubeClient> =>
  Effect.gen(function* () {
    const k = yield* KubeClient
    const owners: Array<Listed> = []
    for (const r of [Langop.LanguageAgent, Langop.LanguageTool])
      owners.push(...((yield* k.listAll(r, { namespace })).items as ReadonlyArray<Listed>))
    const live = new Set(owners.map((o) => o.metadata.uid))
    const kinds = [Builtin.Deployment, Builtin.ConfigMap, Builtin.NetworkPolicy, Builtin.Service]
    const counts = new Map<string, number>()
    const orphans: Array<string> = []
    const deleting: Array<string> = owners
      .filter((o) => o.metadata.deletionTimestamp !== undefined)
      .map((o) => `${o.kind}/${o.metadata.name}`)
    let children = 0
    for (const r of kinds) {
      for (const c of (yield* k.listAll(r, { namespace })).items as ReadonlyArray<Listed>) {
        if (c.metadata.deletionTimestamp !== undefined) deleting.push(`${r.kind}/${c.metadata.name}`)
        const ref = c.metadata.ownerReferences?.find(
          (o) => o.controller === true && (o.kind === "LanguageAgent" || o.kind === "LanguageTool"),
        )
        if (ref === undefined) continue
        children += 1
        if (!live.has(ref.uid)) orphans.push(`${r.kind}/${c.metadata.name} (owner ${ref.kind}/${ref.name})`)
        const key = `${ref.uid}|${r.kind}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
    }
    const duplicated: Array<string> = []
    const missing: Array<string> = []
    for (const o of owners) {
      const isService =
        o.kind === "LanguageTool" && (o.spec as { deploymentMode?: string }).deploymentMode !== "sidecar"
      const expected =
        o.kind === "LanguageAgent" ? ownedKinds.LanguageAgent : isService ? ownedKinds.LanguageTool : []
      for (const r of expected) {
        const n = counts.get(`${o.metadata.uid}|${r.kind}`) ?? 0
        if (n > 1) duplicated.push(`${o.kind}/${o.metadata.name}: ${n} ${r.kind}s`)
        if (n === 0) missing.push(`${o.kind}/${o.metadata.name}: no ${r.kind}`)
      }
    }
    const notReady = owners.filter((o) => !readyAtGeneration(o)).map((o) => `${o.kind}/${o.metadata.name}`)
    return {
      objects: owners.length,
      ready: owners.length - notReady.length,
      notReady,
      duplicated,
      missing,
      orphans,
      deleting,
      children,
    }
  })

/** Every owner Ready at its generation, nothing missing, duplicated, orphaned or stuck deleting. */
export const converged = (c: Census, expectedObjects: number): boolean =>
  c.objects === expectedObjects &&
  c.ready === expectedObjects &&
  c.missing.length === 0 &&
  c.duplicated.length === 0 &&
  c.orphans.length === 0 &&
  c.deleting.length === 0

/** Counts of the owners Ready at their generation (cheap poll for the benches). */
export const readyCount = (namespace: string, kinds: ReadonlyArray<ResourceDescriptor>) =>
  Effect.gen(function* () {
    const k = yield* KubeClient
    let total = 0
    let ready = 0
    for (const r of kinds) {
      const items = (yield* k.listAll(r, { namespace })).items as ReadonlyArray<Listed>
      total += items.length
      ready += items.filter(readyAtGeneration).length
    }
    return { total, ready }
  })
