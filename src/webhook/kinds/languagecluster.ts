/**
 * LanguageCluster admission (docs/languagecluster.md §Reconcile behaviour, docs/languagecluster.md LC-1, docs/languagecluster.md LC-6).
 *
 * - Defaulting: none (the mutating webhook answers with no patch; an empty `spec.namespace` stays
 *   empty and the controller computes `<name>-ns`).
 * - Validation: the namespace in use — `spec.namespace`, or `<name>-ns` when empty — is a valid
 *   namespace name; on UPDATE `spec.namespace` is neither changed, added nor removed, also when
 *   `spec` itself was absent before (where the CEL transition rules cannot run).
 */
import { Effect } from "effect"
import { LanguageCluster } from "../../api/languagecluster.ts"
import { effectiveName, isDns1123Label } from "../../domain/names.ts"
import { CommonRules, defineRules, type Finding, finding } from "../../domain/rules.ts"
import { applyDefaults } from "../defaults.ts"
import { isObject, type Json, type KindAdmission } from "./common.ts"

export const ClusterRules = defineRules("languagecluster", {
  namespaceName: {
    severity: "deny",
    text: "the namespace in use (spec.namespace, or <name>-ns when empty) is a DNS-1123 label of at most 63 characters",
  },
  namespaceImmutable: {
    severity: "deny",
    text: "spec.namespace cannot be changed, added or removed after creation (docs/languagecluster.md LC-1)",
  },
})

export const clusterRuleCatalog = [...Object.values(ClusterRules), CommonRules.schema]

const namespaceIn = (object: Json | undefined): string | undefined => {
  const spec = object?.spec
  const namespace = isObject(spec) ? spec.namespace : undefined
  return typeof namespace === "string" ? namespace : undefined
}

/** Every rule of this kind; `oldObject` is the stored object on UPDATE. Pure. */
export const clusterFindings = (
  cluster: LanguageCluster,
  oldObject: Json | undefined,
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const namespace = cluster.spec?.namespace
  const name = effectiveName(cluster.metadata)
  if ((namespace === undefined || namespace === "") && name !== undefined && !isDns1123Label(`${name}-ns`))
    out.push(
      finding(
        ClusterRules.namespaceName,
        "spec.namespace",
        `is empty and the computed namespace "${name}-ns" is not a valid namespace name (DNS-1123 label, at most 63 characters); set spec.namespace`,
      ),
    )
  if (oldObject !== undefined) {
    const before = namespaceIn(oldObject)
    if (before !== namespace) {
      const what =
        before === undefined
          ? `cannot be added after creation (was unset, now "${namespace ?? ""}")`
          : namespace === undefined
            ? `cannot be removed after creation (was "${before}")`
            : `is immutable (was "${before}", now "${namespace}")`
      out.push(finding(ClusterRules.namespaceImmutable, "spec.namespace", what))
    }
  }
  return out
}

export const clusterAdmission: KindAdmission<typeof LanguageCluster> = {
  kind: "LanguageCluster",
  schema: LanguageCluster,
  mutate: (object, namespace) => applyDefaults("LanguageCluster", object, namespace),
  validate: ({ object, oldObject }) => Effect.succeed(clusterFindings(object, oldObject)),
}
