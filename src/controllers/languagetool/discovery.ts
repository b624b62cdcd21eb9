/**
 * MCP tool discovery into `status.availableTools` (docs/languagetool.md §Discovery; operator setting
 * LANGOP_MCP_TOOL_DISCOVERY, off by default).
 *
 * Guarantees:
 * - Only for `type: mcp` tools in service mode with at least one ready replica.
 * - Rediscovers only when the set of ready pods changed or the interval (10 minutes) passed, so ordinary
 *   reconciles (pod events, resyncs) do not call the tool server; per-key reconciles are serial, so the
 *   memory needs no locking.
 * - A failure leaves the previously discovered list in place (the attempt is remembered, so a failing
 *   server is not called again before the pods change or the interval passes) and never affects `Ready`.
 */
import { Clock, Effect } from "effect"
import type { LanguageTool } from "../../api/languagetool.ts"
import { listMcpTools } from "./mcp.ts"
import type { DeploymentView, PodView } from "./workload.ts"

export interface DiscoveryOptions {
  readonly enabled: boolean
  /** Rediscovery interval (default 10 minutes). */
  readonly intervalMs?: number
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number
  /** The URL to query; default the tool's Service endpoint (tests point it at a local server). */
  readonly endpointFor?: (tool: LanguageTool, serviceEndpoint: string) => string
}

export const DEFAULT_DISCOVERY_INTERVAL_MS = 10 * 60_000

interface Remembered {
  readonly signature: string
  readonly at: number
  readonly tools: ReadonlyArray<string> | undefined
}

/** Per-controller memory of the last discovery per tool key. */
export type DiscoveryMemory = Map<string, Remembered>

export const makeDiscoveryMemory = (): DiscoveryMemory => new Map()

/** Discovery applies to this tool now (see the module header). */
export const discoveryApplies = (tool: LanguageTool, deployment: DeploymentView | undefined): boolean =>
  tool.spec.deploymentMode === "service" &&
  tool.spec.type === "mcp" &&
  (deployment?.status?.readyReplicas ?? 0) > 0

/** Identity of the ready pod set: pod names (not terminating) plus the ready count. */
export const readySignature = (
  deployment: DeploymentView | undefined,
  pods: ReadonlyArray<PodView>,
): string =>
  JSON.stringify([
    deployment?.status?.readyReplicas ?? 0,
    pods
      .filter((p) => p.metadata.deletionTimestamp === undefined)
      .map((p) => p.metadata.name ?? "")
      .sort(),
  ])

/** Should the server be asked now? (pure) */
export const shouldDiscover = (
  remembered: Remembered | undefined,
  signature: string,
  now: number,
  intervalMs: number,
) => remembered === undefined || remembered.signature !== signature || now - remembered.at >= intervalMs

/**
 * The discovered tool names for this reconcile (undefined = not known: keep the status field as it is).
 */
export const discoverTools = (
  memory: DiscoveryMemory,
  key: string,
  tool: LanguageTool,
  serviceEndpoint: string,
  signature: string,
  options: DiscoveryOptions,
): Effect.Effect<ReadonlyArray<string> | undefined> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const remembered = memory.get(key)
    const interval = options.intervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS
    if (!shouldDiscover(remembered, signature, now, interval)) return remembered?.tools
    const url = options.endpointFor?.(tool, serviceEndpoint) ?? serviceEndpoint
    const result = yield* Effect.result(
      listMcpTools(url, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    )
    if (result._tag === "Failure")
      yield* Effect.logWarning("MCP tool discovery failed; keeping the previous list", {
        url,
        step: result.failure.step,
        error: result.failure.message,
      })
    const tools = result._tag === "Success" ? result.success : remembered?.tools
    memory.set(key, { signature, at: now, tools })
    return tools
  })
