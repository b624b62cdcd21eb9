/**
 * LanguageTool admission (languagetool.md §Admission, §Validation; README §3).
 *
 * - Defaulting: `spec.egress[].to.service.namespace` (defaults.ts); nothing else.
 * - Validation (all static, no lookups): the name rules, the three "schema rules" (also CRD CEL, so
 *   they hold for objects written while the webhook is bypassed), egress rules; a sidecar tool's
 *   volume named like an agent-reserved volume is a warning (agents embedding it would report
 *   `SidecarVolumeConflict`).
 */
import { Effect } from "effect"
import { LanguageTool } from "../../api/languagetool.ts"
import { applyDefaults } from "../defaults.ts"
import { EgressRules, egressFindings } from "../egress.ts"
import type { FieldPath } from "../review.ts"
import { CommonRules, defineRules, type Finding, finding, type KindAdmission, type Rule } from "./common.ts"
import { effectiveName, isDns1035Label } from "./names.ts"

export const ToolRules = defineRules("languagetool", {
  nameService: {
    severity: "deny",
    text: "metadata.name is a DNS-1035 label (it names Service <name>)",
  },
  nameSidecar: {
    severity: "deny",
    text: "in sidecar mode metadata.name is at most 58 characters (container tool-<name> ≤ 63)",
  },
  podDisruptionBudget: {
    severity: "deny",
    text: "podDisruptionBudget sets at most one of minAvailable and maxUnavailable (schema rule)",
  },
  updateStrategy: {
    severity: "deny",
    text: "updateStrategy.rollingUpdate is only given with type RollingUpdate (schema rule)",
  },
  autoscalerBounds: {
    severity: "deny",
    text: "horizontalPodAutoscaler.minReplicas ≤ maxReplicas (schema rule)",
  },
  sidecarVolumeName: {
    severity: "warn",
    text: "a sidecar tool's volume is not named like an agent-reserved volume (workspace, agent-config, knowledge-<n>)",
  },
})

/** All rules this kind's webhook applies (tools look nothing up: no reference rules). */
export const toolRuleCatalog = [
  ...Object.values(ToolRules),
  ...Object.values(EgressRules),
  CommonRules.schema,
]

export const MAX_SIDECAR_TOOL_NAME_LENGTH = 58
const AGENT_RESERVED_VOLUME = /^(workspace|agent-config|knowledge-[0-9]+)$/u

interface WorkloadShape {
  readonly podDisruptionBudget?:
    | { readonly minAvailable?: number | undefined; readonly maxUnavailable?: number | undefined }
    | undefined
  readonly updateStrategy?: { readonly type: string; readonly rollingUpdate?: unknown } | undefined
  readonly horizontalPodAutoscaler?:
    | { readonly minReplicas: number; readonly maxReplicas: number }
    | undefined
}

/**
 * The three workload "schema rules" shared by tools and clients (PDB, update strategy, HPA bounds),
 * with the rule catalog of the calling kind.
 */
export const workloadFindings = (
  spec: WorkloadShape,
  rules: {
    readonly podDisruptionBudget: Rule
    readonly updateStrategy: Rule
    readonly autoscalerBounds: Rule
  },
  path: FieldPath = ["spec"],
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const pdb = spec.podDisruptionBudget
  if (pdb?.minAvailable !== undefined && pdb.maxUnavailable !== undefined)
    out.push(
      finding(
        rules.podDisruptionBudget,
        [...path, "podDisruptionBudget"],
        "set at most one of minAvailable and maxUnavailable",
      ),
    )
  const strategy = spec.updateStrategy
  if (strategy?.rollingUpdate !== undefined && strategy.type !== "RollingUpdate")
    out.push(
      finding(
        rules.updateStrategy,
        [...path, "updateStrategy", "rollingUpdate"],
        `rollingUpdate is only allowed with type RollingUpdate (type is ${strategy.type})`,
      ),
    )
  const hpa = spec.horizontalPodAutoscaler
  if (hpa !== undefined && hpa.minReplicas > hpa.maxReplicas)
    out.push(
      finding(
        rules.autoscalerBounds,
        [...path, "horizontalPodAutoscaler", "minReplicas"],
        `minReplicas (${hpa.minReplicas}) must be less than or equal to maxReplicas (${hpa.maxReplicas})`,
      ),
    )
  return out
}

/** Every rule of languagetool.md §Validation. Pure. */
export const staticToolFindings = (tool: LanguageTool): ReadonlyArray<Finding> => {
  const spec = tool.spec
  const out: Array<Finding> = []
  const name = effectiveName(tool.metadata)
  if (name !== undefined && !isDns1035Label(name))
    out.push(
      finding(
        ToolRules.nameService,
        "metadata.name",
        `"${name}" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the tool's Service`,
      ),
    )
  const sidecar = spec.deploymentMode === "sidecar"
  if (name !== undefined && sidecar && name.length > MAX_SIDECAR_TOOL_NAME_LENGTH)
    out.push(
      finding(
        ToolRules.nameSidecar,
        "metadata.name",
        `"${name}" is longer than ${MAX_SIDECAR_TOOL_NAME_LENGTH} characters: sidecar container tool-<name> would exceed 63`,
      ),
    )
  out.push(...workloadFindings(spec, ToolRules))
  if (sidecar)
    for (const [i, volume] of (spec.volumes ?? []).entries())
      if (AGENT_RESERVED_VOLUME.test(volume.name))
        out.push(
          finding(
            ToolRules.sidecarVolumeName,
            ["spec", "volumes", i, "name"],
            `"${volume.name}" is reserved in agent Pods; agents embedding this tool report SidecarVolumeConflict`,
          ),
        )
  out.push(...egressFindings(spec.egress))
  return out
}

export const toolAdmission: KindAdmission<typeof LanguageTool> = {
  kind: "LanguageTool",
  schema: LanguageTool,
  mutate: (object, namespace) => applyDefaults("LanguageTool", object, namespace),
  validate: ({ object }) => Effect.succeed(staticToolFindings(object)),
}
