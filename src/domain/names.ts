/**
 * Name syntax checks the admission rules share: Kubernetes name forms (DNS-1123 / DNS-1035 labels,
 * subdomains, label keys and values), RFC 1123 host names, and the name an object will have.
 *
 * All functions are pure predicates over strings; messages are built by the callers, which know the
 * field and the reason.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/u
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/u
/** One label of an RFC 1123 host name (letters in either case: host names are case-insensitive). */
const HOST_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/u

export const MAX_LABEL_LENGTH = 63
export const MAX_SUBDOMAIN_LENGTH = 253

/** A DNS-1123 label: what Namespace names and most object names must be (lower case, ≤ 63). */
export const isDns1123Label = (s: string): boolean => s.length <= MAX_LABEL_LENGTH && DNS1123_LABEL.test(s)

/** A DNS-1035 label: what Service names must be (starts with a letter, ≤ 63). */
export const isDns1035Label = (s: string): boolean => s.length <= MAX_LABEL_LENGTH && DNS1035_LABEL.test(s)

/** A DNS-1123 subdomain: dot-separated DNS-1123 labels, ≤ 253 in total. */
export const isDns1123Subdomain = (s: string): boolean =>
  s.length > 0 && s.length <= MAX_SUBDOMAIN_LENGTH && s.split(".").every((l) => DNS1123_LABEL.test(l))

/** A label value (may be empty). */
export const isLabelValue = (s: string): boolean => s.length <= MAX_LABEL_LENGTH && LABEL_VALUE.test(s)

/** A label or annotation key: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name ≤ 63. */
export const isQualifiedName = (s: string): boolean => {
  const slash = s.indexOf("/")
  const prefix = slash === -1 ? undefined : s.slice(0, slash)
  const name = slash === -1 ? s : s.slice(slash + 1)
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false
  return name.length <= MAX_LABEL_LENGTH && QUALIFIED_NAME_PART.test(name)
}

/** An RFC 1123 host name (one optional trailing dot), letters in either case. */
export const isHostName = (s: string): boolean => {
  const name = s.endsWith(".") ? s.slice(0, -1) : s
  if (name.length === 0 || name.length > MAX_SUBDOMAIN_LENGTH) return false
  return name.split(".").every((label) => label.length <= MAX_LABEL_LENGTH && HOST_LABEL.test(label))
}

/**
 * The name an object is (or will be) stored under. For `generateName` requests the API server
 * appends 5 random lower-case alphanumerics after cutting the prefix to 58 characters; the webhook
 * sees the object before that, so rules check this stand-in (`0` for each random character).
 * `undefined` when the object has neither.
 */
export const effectiveName = (metadata: {
  readonly name?: string | undefined
  readonly generateName?: string | undefined
}): string | undefined => {
  if (metadata.name !== undefined && metadata.name !== "") return metadata.name
  if (metadata.generateName !== undefined && metadata.generateName !== "")
    return `${metadata.generateName.slice(0, MAX_LABEL_LENGTH - 5)}00000`
  return undefined
}

/** `"a"`, `"a" and "b"`, `"a", "b" and 3 more` — short enough for a kubectl warning line. */
export const quotedList = (items: ReadonlyArray<string>, max = 3): string => {
  const shown = items.slice(0, max).map((s) => `"${s}"`)
  const rest = items.length - shown.length
  if (rest > 0) return `${shown.join(", ")} and ${rest} more`
  if (shown.length <= 1) return shown.join("")
  return `${shown.slice(0, -1).join(", ")} and ${shown.at(-1)}`
}
