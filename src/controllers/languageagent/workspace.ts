/**
 * Workspace PVC `<agent>-workspace` (docs/languageagent.md §Workspace; docs/concepts.md §10 "never rewrite a PVC spec
 * after creation except a storage request increase"). PURE.
 *
 * Guarantees:
 * - Created with `accessModes: [accessMode]`, `resources.requests.storage: size` and `storageClassName`
 *   when given; afterwards the applied spec always repeats the live access modes and class, so a write can
 *   only ever raise the storage request — never touch an immutable field.
 * - `WorkspaceReady` is True only once the claim is Bound; an unbound claim is False, reason `Pending`.
 * - A smaller size, another access mode or another class is reported (`WorkspaceImmutable`) and the
 *   workload is still reconciled against the existing claim.
 * - `enabled: false` keeps the PVC (data safety; GC removes it with the agent), so nothing is desired and
 *   nothing deleted.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { ConditionTypes, Reasons, workspaceClaimName } from "./names.ts"
import { workspaceEnabled } from "./validate.ts"
import { childMetadata, type ObjectMetadata } from "./workload.ts"

export type DesiredClaim = {
  readonly apiVersion: "v1"
  readonly kind: "PersistentVolumeClaim"
  readonly metadata: ObjectMetadata
  readonly spec: {
    readonly accessModes: ReadonlyArray<string>
    readonly storageClassName?: string
    readonly resources: { readonly requests: { readonly storage: string } }
  }
}

/** The live claim as far as decisions read it. */
export interface LiveClaim {
  readonly spec?: {
    readonly accessModes?: ReadonlyArray<string>
    readonly storageClassName?: string
    readonly resources?: { readonly requests?: Readonly<Record<string, string>> }
  }
  readonly status?: { readonly phase?: string }
}

export interface WorkspaceDecision {
  /** What to apply (undefined: nothing). */
  readonly claim: DesiredClaim | undefined
  /** True when `claim` raises the storage request of an existing PVC. */
  readonly resize: boolean
  readonly condition: ConditionInput
}

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
}

/** A Kubernetes quantity as a number (bytes for storage), or undefined when it does not parse. */
export const quantityValue = (q: string): number | undefined => {
  const m = /^([+-]?[0-9]*\.?[0-9]+)(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|K|M|G|T|P|E))?$/u.exec(
    q.trim(),
  )
  if (m === null) return undefined
  const base = Number(m[1])
  if (m[2] !== undefined) return base * 10 ** Number(m[2])
  return base * (SUFFIX[m[3] ?? ""] ?? 1)
}

const condition = (status: "True" | "False", reason: string, message: string): ConditionInput => ({
  type: ConditionTypes.WorkspaceReady,
  status,
  reason,
  message,
})

const warnings = (agent: LanguageAgent): ReadonlyArray<string> =>
  agent.spec.workspace?.accessMode === "ReadWriteOnce" && agent.spec.replicas > 1
    ? [
        `warning: ${agent.spec.replicas} replicas share a ReadWriteOnce workspace; pods on other nodes cannot attach it and stay Pending`,
      ]
    : []

const withWarnings = (agent: LanguageAgent, message: string): string =>
  [message, ...warnings(agent)].join("; ")

/**
 * The claim exists but has no volume: the workspace is NOT ready (pods mounting it cannot start), so
 * False — with what would bind it, because "Pending" alone leaves a user guessing.
 */
const pending = (
  agent: LanguageAgent,
  name: string,
  storageClass: string | undefined,
  state: string,
): ConditionInput =>
  condition(
    "False",
    Reasons.Pending,
    withWarnings(
      agent,
      `PVC "${name}" ${state}, waiting for a volume to be bound: it needs ${
        storageClass !== undefined && storageClass !== ""
          ? `StorageClass "${storageClass}" to provision one`
          : "a default StorageClass that provisions volumes"
      } or a matching PersistentVolume; pods that mount the workspace cannot start until then`,
    ),
  )

export const decideWorkspace = (
  agent: LanguageAgent,
  live: LiveClaim | undefined,
  clusterLabel: string | undefined,
): WorkspaceDecision => {
  const name = workspaceClaimName(agent.metadata.name ?? "")
  const ws = agent.spec.workspace
  if (!workspaceEnabled(agent) || ws === undefined)
    return {
      claim: undefined,
      resize: false,
      condition: condition(
        "True",
        Reasons.Disabled,
        live === undefined
          ? "No workspace"
          : `Workspace disabled; PVC "${name}" is kept until the agent is deleted`,
      ),
    }
  const metadata = childMetadata(agent, name, clusterLabel)
  if (live === undefined)
    return {
      claim: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata,
        spec: {
          accessModes: [ws.accessMode],
          ...(ws.storageClassName !== undefined && ws.storageClassName !== ""
            ? { storageClassName: ws.storageClassName }
            : {}),
          resources: { requests: { storage: ws.size } },
        },
      },
      resize: false,
      condition: pending(agent, name, ws.storageClassName, "created"),
    }
  const liveModes = live.spec?.accessModes ?? []
  const liveClass = live.spec?.storageClassName
  const liveSize = live.spec?.resources?.requests?.storage ?? ws.size
  const problems: Array<string> = []
  if (!liveModes.includes(ws.accessMode))
    problems.push(`access mode is ${liveModes.join(",") || "unset"}, spec asks for ${ws.accessMode}`)
  if (ws.storageClassName !== undefined && ws.storageClassName !== "" && ws.storageClassName !== liveClass)
    problems.push(`storage class is ${liveClass ?? "unset"}, spec asks for ${ws.storageClassName}`)
  const want = quantityValue(ws.size)
  const have = quantityValue(liveSize)
  const grow = want !== undefined && have !== undefined && want > have
  if (want !== undefined && have !== undefined && want < have)
    problems.push(`size is ${liveSize}, spec asks for the smaller ${ws.size} (a PVC cannot shrink)`)
  const claim: DesiredClaim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata,
    spec: {
      accessModes: liveModes,
      ...(liveClass !== undefined ? { storageClassName: liveClass } : {}),
      resources: { requests: { storage: grow ? ws.size : liveSize } },
    },
  }
  if (problems.length > 0)
    return {
      claim,
      resize: grow,
      condition: condition(
        "False",
        Reasons.WorkspaceImmutable,
        `PVC "${name}" cannot be changed after creation: ${problems.join("; ")}; the existing claim stays in use (delete it to recreate)`,
      ),
    }
  const phase = live.status?.phase
  const state =
    phase === "Bound"
      ? condition("True", Reasons.Bound, withWarnings(agent, `PVC "${name}" is bound`))
      : phase === "Lost"
        ? condition("False", Reasons.PVCError, `PVC "${name}" lost its volume`)
        : pending(agent, name, liveClass, phase === undefined ? "created" : `is ${phase}`)
  return {
    claim,
    resize: grow,
    condition: grow
      ? { ...state, message: `${state.message}; storage request raised from ${liveSize} to ${ws.size}` }
      : state,
  }
}
