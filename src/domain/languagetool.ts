/**
 * LanguageTool validation rules, used by the admission webhook (which denies them) and by the
 * controller (which reports them for objects stored without the webhook): the name rules, the three
 * workload rules that are also CRD CEL rules (so they hold while the webhook is bypassed), egress
 * rules; a sidecar tool's volume named like an agent-reserved volume is a warning (agents embedding it
 * would report `SidecarVolumeConflict`). Pure.
 */
import type { LanguageTool } from "../api/languagetool.ts"
import { EgressRules, egressFindings } from "./egress.ts"
import { effectiveName, isDns1035Label } from "./names.ts"
import { CommonRules, defineRules, type Finding, finding } from "./rules.ts"
import { workloadFindings } from "./workload.ts"

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

/** Every rule of docs/languagetool.md §Validation. Pure. */
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
