// Decoded LanguageTools (schema defaults applied, as the informer cache holds them) and inputs for decide.
import { Result } from "effect"
import { LanguageTool } from "../../../../src/api/languagetool.ts"
import type { ToolInput } from "../../../../src/controllers/languagetool/decide.ts"
import { decodeObject } from "../../../../src/kube/decode.ts"
import { emptyWorld } from "../../../../src/network/peers.ts"
import { buildEgressPolicy } from "../../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../../src/network/settings.ts"

export const NOW = "2025-11-01T10:00:00Z"
export const LATER = "2025-11-01T11:00:00Z"

const decodeTool = decodeObject(LanguageTool)

export interface ToolOverrides {
  readonly name?: string
  readonly namespace?: string
  readonly spec?: Record<string, unknown>
  readonly status?: Record<string, unknown>
  readonly finalizers?: ReadonlyArray<string>
  readonly generation?: number
}

export const tool = (o: ToolOverrides = {}): LanguageTool => {
  const decoded = decodeTool({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageTool",
    metadata: {
      name: o.name ?? "web-fetch",
      namespace: o.namespace ?? "demo",
      uid: "uid-tool",
      generation: o.generation ?? 1,
      finalizers: o.finalizers ?? ["langop.io/finalizer"],
    },
    spec: { image: "ghcr.io/langop/mcp-web-fetch:1.0", ...o.spec },
    ...(o.status !== undefined ? { status: o.status } : {}),
  })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.join("\n"))
  return decoded.success
}

export const egressOf = (t: LanguageTool) =>
  buildEgressPolicy(
    {
      kind: "LanguageTool",
      name: t.metadata.name ?? "",
      namespace: t.metadata.namespace ?? "",
      egress: t.spec.egress ?? [],
    },
    emptyWorld,
    DEFAULT_EGRESS_SETTINGS,
  )

export const input = (t: LanguageTool, over: Partial<ToolInput> = {}): ToolInput => ({
  tool: t,
  cluster: undefined,
  live: {},
  pods: [],
  embeddingAgents: [],
  envSources: [],
  egress: t.spec.deploymentMode === "service" ? egressOf(t) : undefined,
  clusterDomain: "cluster.local",
  now: NOW,
  ...over,
})

/** A Deployment status as the deployment controller reports it. */
export const deploymentWith = (
  replicas: number,
  status: {
    ready?: number
    available?: number
    updated?: number
    unavailable?: number
    observedGeneration?: number
    generation?: number
    conditions?: ReadonlyArray<{ type: string; status: string; reason?: string; message?: string }>
  },
) => ({
  metadata: { name: "web-fetch", generation: status.generation ?? 1 },
  spec: { replicas },
  status: {
    observedGeneration: status.observedGeneration ?? status.generation ?? 1,
    readyReplicas: status.ready ?? 0,
    availableReplicas: status.available ?? status.ready ?? 0,
    updatedReplicas: status.updated ?? replicas,
    unavailableReplicas: status.unavailable ?? 0,
    ...(status.conditions !== undefined ? { conditions: status.conditions } : {}),
  },
})
