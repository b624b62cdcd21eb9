/**
 * The operator's own pod-template keys cannot come from users: `spec.podAnnotations` and
 * `spec.podLabels` (the only user-supplied pod template metadata of any kind) must not carry a
 * `langop.io/` key (or a key under a subdomain of langop.io).
 *
 * Why deny rather than let the operator's value win: the operator writes some of its marks only
 * sometimes (`langop.io/sidecar-tools` only when the agent has sidecar tools, `langop.io/cluster`
 * only with a clusterRef), so a user's value under such a key would reach the Pods unopposed and be
 * read as the operator's word (a forged `langop.io/sidecar-tools` once made the Pod webhook inject a
 * tool the agent had blocked). The one exception is the `langop.io/group` label: it is the users' own
 * label that egress `to.group` peers select, and the operator never writes it.
 *
 * Pure; every offending key is one finding naming the key.
 */
import { LABEL_GROUP } from "../domain/labels.ts"
import { defineRules, type Finding, finding } from "../domain/rules.ts"

export const PodTemplateKeyRules = defineRules("podtemplate", {
  operatorKey: {
    severity: "deny",
    text: "podAnnotations and podLabels carry no langop.io/ key (the operator's own marks); the langop.io/group label is the one users set",
  },
})

/** Labels under langop.io/ that belong to users (egress `to.group` selects them). */
export const USER_OWNED_LABELS: ReadonlySet<string> = new Set([LABEL_GROUP])

/** Whether a label or annotation key is in the operator's `langop.io` prefix (or a subdomain of it). */
export const isOperatorKey = (key: string): boolean => {
  const slash = key.indexOf("/")
  if (slash < 0) return false
  const prefix = key.slice(0, slash).toLowerCase()
  return prefix === "langop.io" || prefix.endsWith(".langop.io")
}

interface PodMetadataShape {
  readonly podAnnotations?: Readonly<Record<string, string>> | undefined
  readonly podLabels?: Readonly<Record<string, string>> | undefined
}

/** One deny per `langop.io/` key in `spec.podAnnotations` / `spec.podLabels`, naming the key. */
export const operatorKeyFindings = (spec: PodMetadataShape): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  for (const key of Object.keys(spec.podAnnotations ?? {}).sort())
    if (isOperatorKey(key))
      out.push(
        finding(
          PodTemplateKeyRules.operatorKey,
          ["spec", "podAnnotations", key],
          `annotation "${key}" is reserved for the operator (langop.io/ keys on Pods are the operator's marks, e.g. which sidecar tools to inject); remove it`,
        ),
      )
  for (const key of Object.keys(spec.podLabels ?? {}).sort())
    if (isOperatorKey(key) && !USER_OWNED_LABELS.has(key))
      out.push(
        finding(
          PodTemplateKeyRules.operatorKey,
          ["spec", "podLabels", key],
          `label "${key}" is reserved for the operator (only ${LABEL_GROUP} may be set by users); remove it`,
        ),
      )
  return out
}
