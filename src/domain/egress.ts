/**
 * Admission rules for `spec.egress[]` (agents, tools, models): docs/admission.md §Validation, docs/concepts.md §8,
 * §9 and docs/concepts.md X-4.
 *
 * - A rule names at least one destination in `to`: `group`, `cidr`, `dns` (non-empty), `service`,
 *   `namespaceSelector` or `podSelector` (the controller skips a rule without one, which would
 *   silently allow nothing).
 * - `to.dns[]`: RFC 1123 host names (one optional trailing dot) with at most one leading `*.`
 *   wildcard label, or `*` alone.
 * - `to.cidr`: an IPv4 or IPv6 CIDR or a bare address (the controller normalises it); no leading
 *   zeros in IPv4 octets or prefixes, no zone ids.
 * - `to.service.name` a DNS-1035 label, `to.service.namespace` (when set) a DNS-1123 label.
 * - `to.group` a non-empty label value (it becomes `langop.io/group=<group>`).
 * - label selectors: valid keys and values; `In`/`NotIn` with values, `Exists`/`DoesNotExist`
 *   without (what NetworkPolicy validation would otherwise reject at reconcile).
 * - `from` is meaningless on an egress rule: a warning, never a denial (docs/concepts.md X-4).
 * Ports (1–65535, TCP/UDP/SCTP) are schema constraints, reported with the schema findings.
 * Pure; paths are Kubernetes field paths (`spec.egress[1].to.dns[0]`).
 */
import { isIPv4, isIPv6 } from "node:net"
import type { LabelSelector } from "../api/k8s/index.ts"
import type { NetworkRule } from "../api/shared.ts"
import { isDns1035Label, isDns1123Label, isHostName, isLabelValue, isQualifiedName } from "./names.ts"
import { defineRules, type FieldPath, type Finding, finding } from "./rules.ts"

export const EgressRules = defineRules("egress", {
  destination: {
    severity: "deny",
    text: "a rule names at least one destination in `to` (group, cidr, dns, service, namespaceSelector or podSelector)",
  },
  dns: {
    severity: "deny",
    text: "`to.dns[]` entries are RFC 1123 host names with at most one leading `*.` wildcard label, or `*` alone",
  },
  cidr: { severity: "deny", text: "`to.cidr` is an IPv4 or IPv6 CIDR or a bare address" },
  service: {
    severity: "deny",
    text: "`to.service.name` is a DNS-1035 label and `to.service.namespace` a DNS-1123 label",
  },
  group: { severity: "deny", text: "`to.group` is a non-empty label value" },
  selector: {
    severity: "deny",
    text: "label selectors have valid keys and values, and values only with In/NotIn (which need them)",
  },
  from: { severity: "warn", text: "`from` on an egress rule is ignored (docs/concepts.md X-4)" },
})

/** `*`, or an RFC 1123 host name optionally prefixed by one `*.` wildcard label. */
export const isEgressDnsName = (name: string): boolean =>
  name === "*" || isHostName(name.startsWith("*.") ? name.slice(2) : name)

const PREFIX = /^(0|[1-9][0-9]{0,2})$/u

/** An IPv4/IPv6 CIDR or bare address, as docs/concepts.md §9 accepts for `to.cidr`. */
export const isCidrOrAddress = (value: string): boolean => {
  const slash = value.indexOf("/")
  const address = slash === -1 ? value : value.slice(0, slash)
  const prefix = slash === -1 ? undefined : value.slice(slash + 1)
  // Zone ids (`fe80::1%eth0`) have no meaning in a NetworkPolicy ipBlock.
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes("%") ? 6 : undefined
  if (family === undefined) return false
  if (prefix === undefined) return true
  if (!PREFIX.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

const OPERATORS = new Set(["In", "NotIn", "Exists", "DoesNotExist"])

/** Findings for one LabelSelector at `path`. */
export const selectorFindings = (selector: LabelSelector, path: FieldPath): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!isQualifiedName(key))
      out.push(finding(EgressRules.selector, [...path, "matchLabels"], `"${key}" is not a valid label key`))
    if (!isLabelValue(value))
      out.push(
        finding(EgressRules.selector, [...path, "matchLabels", key], `"${value}" is not a valid label value`),
      )
  }
  for (const [i, expression] of (selector.matchExpressions ?? []).entries()) {
    const at = [...path, "matchExpressions", i]
    const values = expression.values ?? []
    if (!isQualifiedName(expression.key))
      out.push(finding(EgressRules.selector, [...at, "key"], `"${expression.key}" is not a valid label key`))
    if (!OPERATORS.has(expression.operator))
      out.push(
        finding(
          EgressRules.selector,
          [...at, "operator"],
          `"${expression.operator}" is not one of In, NotIn, Exists, DoesNotExist`,
        ),
      )
    else if ((expression.operator === "In" || expression.operator === "NotIn") && values.length === 0)
      out.push(
        finding(EgressRules.selector, [...at, "values"], `operator ${expression.operator} needs values`),
      )
    else if (
      (expression.operator === "Exists" || expression.operator === "DoesNotExist") &&
      values.length > 0
    )
      out.push(
        finding(EgressRules.selector, [...at, "values"], `operator ${expression.operator} takes no values`),
      )
    for (const [j, value] of values.entries())
      if (!isLabelValue(value))
        out.push(finding(EgressRules.selector, [...at, "values", j], `"${value}" is not a valid label value`))
  }
  return out
}

const hasDestination = (to: NonNullable<NetworkRule["to"]>): boolean =>
  to.group !== undefined ||
  to.cidr !== undefined ||
  (to.dns !== undefined && to.dns.length > 0) ||
  to.service !== undefined ||
  to.namespaceSelector !== undefined ||
  to.podSelector !== undefined

/** Every finding for `rules` (the decoded `spec.egress`), paths below `path`. */
export const egressFindings = (
  rules: ReadonlyArray<NetworkRule> | undefined,
  path: FieldPath = ["spec", "egress"],
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  for (const [i, rule] of (rules ?? []).entries()) {
    const at = [...path, i]
    if (rule.from !== undefined)
      out.push(finding(EgressRules.from, [...at, "from"], "is ignored on an egress rule; use `to`"))
    const to = rule.to
    if (to === undefined || !hasDestination(to)) {
      out.push(
        finding(
          EgressRules.destination,
          to === undefined ? at : [...at, "to"],
          "rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
        ),
      )
      continue
    }
    for (const [j, name] of (to.dns ?? []).entries())
      if (!isEgressDnsName(name))
        out.push(
          finding(
            EgressRules.dns,
            [...at, "to", "dns", j],
            `"${name}" is not a valid DNS name or single leading wildcard`,
          ),
        )
    if (to.cidr !== undefined && !isCidrOrAddress(to.cidr))
      out.push(
        finding(
          EgressRules.cidr,
          [...at, "to", "cidr"],
          `"${to.cidr}" is not an IPv4 or IPv6 CIDR or address`,
        ),
      )
    if (to.service !== undefined) {
      if (!isDns1035Label(to.service.name))
        out.push(
          finding(
            EgressRules.service,
            [...at, "to", "service", "name"],
            `"${to.service.name}" is not a valid Service name (DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters)`,
          ),
        )
      const ns = to.service.namespace
      if (ns !== undefined && ns !== "" && !isDns1123Label(ns))
        out.push(
          finding(
            EgressRules.service,
            [...at, "to", "service", "namespace"],
            `"${ns}" is not a valid namespace name`,
          ),
        )
    }
    if (to.group !== undefined && (to.group === "" || !isLabelValue(to.group)))
      out.push(finding(EgressRules.group, [...at, "to", "group"], `"${to.group}" is not a valid label value`))
    if (to.namespaceSelector !== undefined)
      out.push(...selectorFindings(to.namespaceSelector, [...at, "to", "namespaceSelector"]))
    if (to.podSelector !== undefined)
      out.push(...selectorFindings(to.podSelector, [...at, "to", "podSelector"]))
  }
  return out
}
