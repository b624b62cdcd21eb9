/**
 * LanguageClient validation rules that need no other object (every name, region, TLS, session,
 * authentication and workload rule, and the Secret-namespace rule for every Secret reference), used by
 * the admission webhook (which denies them) and by the controller (which maps them to condition
 * reasons for objects stored without the webhook). Pure.
 */
import type { LanguageClient } from "../api/languageclient.ts"
import { effectiveName, isDns1035Label, isDns1123Label, MAX_LABEL_LENGTH } from "./names.ts"
import {
  CommonRules,
  defineRules,
  type Finding,
  finding,
  secretNamespaceFindings,
  type ValidationOptions,
} from "./rules.ts"
import { workloadFindings } from "./workload.ts"

export const ClientRules = defineRules("languageclient", {
  nameService: { severity: "deny", text: "metadata.name is a DNS-1035 label (it names Service <name>)" },
  regionName: { severity: "deny", text: "regions[].name is a DNS-1123 label" },
  regionNameLength: { severity: "deny", text: "<name>-<region> is at most 63 characters" },
  regionUnique: { severity: "deny", text: "regions[].name is unique" },
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
  tlsSource: { severity: "deny", text: "tls.enabled needs tls.secretRef or tls.certManager" },
  tlsIssuer: {
    severity: "deny",
    text: "tls.certManager needs tls.certManagerIssuer unless the operator has a default issuer",
  },
  cookieSameSite: { severity: "deny", text: "sessionConfig.cookieConfig.sameSite None needs secure: true" },
  sessionBackend: {
    severity: "deny",
    text: "session backends redis, postgres and dynamodb need backendConfig.endpoint or backendConfig.secretRef",
  },
  providerName: {
    severity: "deny",
    text: "authentication.providers[].name is a unique DNS-1123 label (it names a mount path)",
  },
  providerRequired: {
    severity: "deny",
    text: "enabled authentication without anonymous access has at least one enabled provider",
  },
  requireAuthentication: {
    severity: "deny",
    text: "requireAuthentication with an enabled ingress has at least one enabled provider",
  },
  rbacDefaultRole: {
    severity: "deny",
    text: "with rbac enabled and roles listed, rbac.defaultRole names one of them",
  },
  corsCredentials: {
    severity: "deny",
    text: 'cors.allowCredentials is not combined with "*" in cors.allowedOrigins',
  },
  filterUnique: { severity: "deny", text: "contentModeration.customFilters[].name is unique" },
  reservedVolume: {
    severity: "deny",
    text: "volumes are not named client-config, auth-<n>, session-secret or tls (ReservedVolumeName)",
  },
  sidecarTool: {
    severity: "warn",
    text: "a sidecar-mode tool is skipped: clients never get sidecars (docs/languageclient.md CL-11)",
  },
})

export const clientRuleCatalog = [...Object.values(ClientRules), ...Object.values(CommonRules)]

const RESERVED_VOLUME = /^(client-config|auth-[0-9]+|session-secret|tls)$/u

type Spec = LanguageClient["spec"]

const duplicates = (names: ReadonlyArray<string>): ReadonlyArray<[index: number, earlier: number]> => {
  const first = new Map<string, number>()
  const out: Array<[number, number]> = []
  for (const [i, name] of names.entries()) {
    const earlier = first.get(name)
    if (earlier === undefined) first.set(name, i)
    else out.push([i, earlier])
  }
  return out
}

const regionFindings = (spec: Spec, name: string | undefined): ReadonlyArray<Finding> => {
  const regions = spec.regions ?? []
  const out: Array<Finding> = []
  for (const [i, region] of regions.entries()) {
    const path = ["spec", "regions", i, "name"]
    if (!isDns1123Label(region.name))
      out.push(finding(ClientRules.regionName, path, `"${region.name}" is not a DNS-1123 label`))
    else if (name !== undefined && `${name}-${region.name}`.length > MAX_LABEL_LENGTH)
      out.push(
        finding(
          ClientRules.regionNameLength,
          path,
          `"${name}-${region.name}" (the region's Deployment and Service) is longer than 63 characters`,
        ),
      )
  }
  for (const [i, earlier] of duplicates(regions.map((r) => r.name)))
    out.push(
      finding(
        ClientRules.regionUnique,
        ["spec", "regions", i, "name"],
        `duplicates spec.regions[${earlier}].name`,
      ),
    )
  return out
}

const tlsAndSessionFindings = (spec: Spec, options: ValidationOptions): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const tls = spec.tls
  if (tls?.enabled === true && tls.secretRef === undefined && !tls.certManager)
    out.push(finding(ClientRules.tlsSource, "spec.tls", "enabled needs secretRef or certManager"))
  const noIssuer = tls?.certManagerIssuer === undefined || tls.certManagerIssuer === ""
  const defaultIssuer = options.defaultClientIssuer !== undefined && options.defaultClientIssuer !== ""
  if (tls?.certManager === true && noIssuer && !defaultIssuer)
    out.push(
      finding(
        ClientRules.tlsIssuer,
        "spec.tls.certManagerIssuer",
        "is required with certManager (the operator has no default issuer)",
      ),
    )
  const session = spec.sessionConfig
  const cookie = session?.cookieConfig
  if (cookie?.sameSite === "None" && !cookie.secure)
    out.push(
      finding(
        ClientRules.cookieSameSite,
        "spec.sessionConfig.cookieConfig.secure",
        "must be true with sameSite None",
      ),
    )
  const backend = session?.backend
  if (
    session !== undefined &&
    backend !== "memory" &&
    (session.backendConfig?.endpoint ?? "") === "" &&
    session.backendConfig?.secretRef === undefined
  )
    out.push(
      finding(
        ClientRules.sessionBackend,
        "spec.sessionConfig.backendConfig",
        `needs endpoint or secretRef for backend ${backend ?? ""}`,
      ),
    )
  return out
}

const authFindings = (spec: Spec): ReadonlyArray<Finding> => {
  const auth = spec.authentication
  if (auth === undefined) return []
  const out: Array<Finding> = []
  const providers = auth.providers ?? []
  for (const [i, provider] of providers.entries())
    if (!isDns1123Label(provider.name))
      out.push(
        finding(
          ClientRules.providerName,
          ["spec", "authentication", "providers", i, "name"],
          `"${provider.name}" is not a DNS-1123 label`,
        ),
      )
  for (const [i, earlier] of duplicates(providers.map((p) => p.name)))
    out.push(
      finding(
        ClientRules.providerName,
        ["spec", "authentication", "providers", i, "name"],
        `duplicates spec.authentication.providers[${earlier}].name`,
      ),
    )
  const enabledProvider = providers.some((p) => p.enabled)
  const anonymous = auth.allowAnonymous && !auth.requireAuthentication
  const providerMissing = auth.enabled && !anonymous && !enabledProvider
  if (providerMissing)
    out.push(
      finding(
        ClientRules.providerRequired,
        "spec.authentication.providers",
        "needs at least one enabled provider when authentication is enabled without anonymous access",
      ),
    )
  if (!providerMissing && auth.requireAuthentication && spec.ingress?.enabled === true && !enabledProvider)
    out.push(
      finding(
        ClientRules.requireAuthentication,
        "spec.authentication.providers",
        "needs at least one enabled provider: requireAuthentication is set and the ingress is enabled",
      ),
    )
  const rbac = auth.rbac
  const roles = rbac?.roles ?? []
  if (rbac?.enabled === true && roles.length > 0 && !roles.some((r) => r.name === rbac.defaultRole))
    out.push(
      finding(
        ClientRules.rbacDefaultRole,
        "spec.authentication.rbac.defaultRole",
        `"${rbac.defaultRole}" is not one of the roles (${roles.map((r) => r.name).join(", ")})`,
      ),
    )
  return out
}

/** Every rule that needs no other object (docs/languageclient.md §Validation). Pure. */
export const staticClientFindings = (
  client: LanguageClient,
  namespace: string,
  options: ValidationOptions = {},
): ReadonlyArray<Finding> => {
  const spec = client.spec
  const name = effectiveName(client.metadata)
  const out: Array<Finding> = []
  if (name !== undefined && !isDns1035Label(name))
    out.push(
      finding(
        ClientRules.nameService,
        "metadata.name",
        `"${name}" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the client's Service`,
      ),
    )
  out.push(...regionFindings(spec, name), ...workloadFindings(spec, ClientRules))
  out.push(...tlsAndSessionFindings(spec, options), ...authFindings(spec))
  if (spec.cors?.allowCredentials === true && (spec.cors.allowedOrigins ?? []).includes("*"))
    out.push(
      finding(
        ClientRules.corsCredentials,
        "spec.cors.allowedOrigins",
        'must not contain "*" with allowCredentials',
      ),
    )
  for (const [i, earlier] of duplicates((spec.contentModeration?.customFilters ?? []).map((f) => f.name)))
    out.push(
      finding(
        ClientRules.filterUnique,
        ["spec", "contentModeration", "customFilters", i, "name"],
        `duplicates spec.contentModeration.customFilters[${earlier}].name`,
      ),
    )
  for (const [i, volume] of (spec.volumes ?? []).entries())
    if (RESERVED_VOLUME.test(volume.name))
      out.push(
        finding(
          ClientRules.reservedVolume,
          ["spec", "volumes", i, "name"],
          `volume name "${volume.name}" is reserved for the operator (client-config, auth-<n>, session-secret, tls)`,
        ),
      )
  out.push(...secretNamespaceFindings(spec.tls?.secretRef, ["spec", "tls", "secretRef"], namespace))
  for (const [i, provider] of (spec.authentication?.providers ?? []).entries())
    out.push(
      ...secretNamespaceFindings(
        provider.secretRef,
        ["spec", "authentication", "providers", i, "secretRef"],
        namespace,
      ),
    )
  out.push(
    ...secretNamespaceFindings(
      spec.sessionConfig?.backendConfig?.secretRef,
      ["spec", "sessionConfig", "backendConfig", "secretRef"],
      namespace,
    ),
  )
  return out
}
