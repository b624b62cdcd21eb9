/**
 * Static validation of a LanguageClient at reconcile (docs/languageclient.md §Validation), for objects stored
 * without the validating webhook. PURE.
 *
 * The rules are the webhook's own (`staticClientFindings`), so admission and reconcile never disagree;
 * this module only maps the denials to the spec's condition reasons: a bad name → `InvalidName`, a
 * reserved volume → `ReservedVolumeName`, a Secret in another namespace → `CrossNamespaceSecretUnsupported`
 * (docs/concepts.md X-3), everything else → `InvalidSpec`. The most specific reason of the first kind found wins;
 * the message lists every problem.
 */
import type { LanguageClient } from "../../api/languageclient.ts"
import { ClientRules, staticClientFindings } from "../../domain/languageclient.ts"
import { CommonRules } from "../../domain/rules.ts"
import { Reasons } from "./names.ts"

export interface Invalid {
  readonly reason: string
  readonly message: string
}

const NAME_RULES: ReadonlySet<string> = new Set([
  ClientRules.nameService.id,
  ClientRules.regionName.id,
  ClientRules.regionNameLength.id,
])

const reasonOf = (rule: string): string =>
  NAME_RULES.has(rule)
    ? Reasons.InvalidName
    : rule === ClientRules.reservedVolume.id
      ? Reasons.ReservedVolumeName
      : rule === CommonRules.secretNamespace.id
        ? Reasons.CrossNamespaceSecretUnsupported
        : Reasons.InvalidSpec

const PRECEDENCE = [
  Reasons.InvalidName,
  Reasons.ReservedVolumeName,
  Reasons.CrossNamespaceSecretUnsupported,
  Reasons.InvalidSpec,
]

export const validateClient = (
  client: LanguageClient,
  defaultIssuer: string | undefined,
): Invalid | undefined => {
  const denials = staticClientFindings(client, client.metadata.namespace ?? "", {
    defaultClientIssuer: defaultIssuer,
  }).filter((f) => f.severity === "deny")
  if (denials.length === 0) return undefined
  const reasons = new Set(denials.map((f) => reasonOf(f.rule)))
  const reason = PRECEDENCE.find((r) => reasons.has(r)) ?? Reasons.InvalidSpec
  return { reason, message: denials.map((f) => `${f.path}: ${f.message}`).join("; ") }
}
