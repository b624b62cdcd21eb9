/**
 * Static validation of a LanguageTool at reconcile, for objects stored without the validating webhook.
 * PURE.
 *
 * The rules are the webhook's own (`staticToolFindings` in src/domain/languagetool.ts; the workload
 * rules there are the CRD's CEL rules too), so admission, schema and reconcile never disagree. Denied
 * names → `InvalidName` (reported alone: every child is named after the tool), anything else →
 * `InvalidSpec`. Malformed `spec.egress` rules are not failures here: the egress builder leaves such a
 * rule out (fail-closed) and reports it in `EgressResolved=False`.
 */
import type { LanguageTool } from "../../api/languagetool.ts"
import { EgressRules } from "../../domain/egress.ts"
import { staticToolFindings, ToolRules } from "../../domain/languagetool.ts"

const NAME_RULES: ReadonlySet<string> = new Set([ToolRules.nameService.id, ToolRules.nameSidecar.id])
const EGRESS_RULES: ReadonlySet<string> = new Set(Object.values(EgressRules).map((r) => r.id))

const lines = (findings: ReadonlyArray<{ readonly path: string; readonly message: string }>) =>
  findings.map((f) => `${f.path}: ${f.message}`).join("; ")

export const validate = (
  tool: LanguageTool,
): { readonly reason: "InvalidName" | "InvalidSpec"; readonly message: string } | undefined => {
  const denials = staticToolFindings(tool).filter((f) => f.severity === "deny" && !EGRESS_RULES.has(f.rule))
  const names = denials.filter((f) => NAME_RULES.has(f.rule))
  if (names.length > 0) return { reason: "InvalidName", message: lines(names) }
  return denials.length === 0 ? undefined : { reason: "InvalidSpec", message: lines(denials) }
}
