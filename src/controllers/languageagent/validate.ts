/**
 * Static validation of a LanguageAgent at reconcile, for objects stored without the validating
 * webhook. PURE.
 *
 * The rules are the webhook's own (`staticAgentFindings` in src/domain/languageagent.ts), so admission
 * and reconcile never disagree (they once did about `0 ? * * *`: admitted, then refused here). This
 * module only maps the denials to condition reasons: a bad name → `InvalidName`, a reserved volume →
 * `ReservedVolumeName`, a Secret in another namespace → `CrossNamespaceSecretUnsupported`, everything
 * else → `InvalidSpec`; the most specific reason present wins ({@link validationReason}).
 *
 * Malformed `spec.egress` rules are deliberately NOT validation failures here: a stored object with a
 * bad rule keeps running, the egress builder leaves that rule out (fail-closed) and reports it in
 * `EgressResolved=False`, so one bad rule does not take the whole agent down.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import { EgressRules } from "../../domain/egress.ts"
import {
  AgentRules,
  needsService as modeNeedsService,
  staticAgentFindings,
} from "../../domain/languageagent.ts"
import { CommonRules } from "../../domain/rules.ts"
import { Reasons } from "./names.ts"

export type ValidationReason =
  | typeof Reasons.InvalidName
  | typeof Reasons.ReservedVolumeName
  | typeof Reasons.CrossNamespaceSecretUnsupported
  | typeof Reasons.InvalidSpec

export interface ValidationIssue {
  readonly reason: ValidationReason
  readonly path: string
  readonly message: string
}

/** Most specific first: the reason the `Ready` condition reports when several kinds of issue exist. */
const REASON_ORDER: ReadonlyArray<ValidationReason> = [
  Reasons.InvalidName,
  Reasons.ReservedVolumeName,
  Reasons.CrossNamespaceSecretUnsupported,
  Reasons.InvalidSpec,
]

const NAME_RULES: ReadonlySet<string> = new Set([
  AgentRules.nameLength.id,
  AgentRules.nameService.id,
  AgentRules.nameScheduled.id,
])

const EGRESS_RULES: ReadonlySet<string> = new Set(Object.values(EgressRules).map((r) => r.id))

const reasonOf = (rule: string): ValidationReason =>
  NAME_RULES.has(rule)
    ? Reasons.InvalidName
    : rule === AgentRules.reservedVolume.id
      ? Reasons.ReservedVolumeName
      : rule === CommonRules.secretNamespace.id
        ? Reasons.CrossNamespaceSecretUnsupported
        : Reasons.InvalidSpec

/** Whether the agent's mode creates Service `<name>` (interactive, or event-driven with a webhook trigger). */
export const needsService = (agent: LanguageAgent): boolean => modeNeedsService(agent.spec)

/** Workspace present and enabled (an omitted workspace means none). */
export const workspaceEnabled = (agent: LanguageAgent): boolean => agent.spec.workspace?.enabled === true

/** Every static problem the webhook would deny (egress rules aside, see above), in field order. */
export const validateAgent = (agent: LanguageAgent): ReadonlyArray<ValidationIssue> =>
  staticAgentFindings(agent, agent.metadata.namespace ?? "")
    .filter((f) => f.severity === "deny" && !EGRESS_RULES.has(f.rule))
    .map((f) => ({ reason: reasonOf(f.rule), path: f.path, message: f.message }))

/** The condition reason for a non-empty issue list. */
export const validationReason = (issues: ReadonlyArray<ValidationIssue>): ValidationReason =>
  REASON_ORDER.find((r) => issues.some((i) => i.reason === r)) ?? Reasons.InvalidSpec

/** `path: message` lines joined by "; " (the condition message). */
export const validationMessage = (issues: ReadonlyArray<ValidationIssue>): string =>
  issues.map((i) => `${i.path}: ${i.message}`).join("; ")
