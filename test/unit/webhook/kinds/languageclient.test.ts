import { describe, expect, it } from "vitest"
import { clientRuleCatalog } from "../../../../src/domain/languageclient.ts"
import { clientAdmission } from "../../../../src/webhook/kinds/languageclient.ts"
import { checkRow, expectCovered, failingLookup, mutate, NS, type Row, withSpec } from "./support.ts"

const client = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageClient",
  metadata: { name: "support-chat", namespace: NS },
  spec: { image: "ghcr.io/langop/chat:1.0", modelRefs: [{ name: "gpt" }] },
}
const c = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  withSpec(client, spec, metadata)

const rows: ReadonlyArray<Row> = [
  { name: "a minimal valid client is allowed without warnings", object: client },
  {
    name: "the name is a DNS-1035 label",
    object: c({}, { name: "chat.v2" }),
    deny: [
      `metadata.name: "chat.v2" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the client's Service`,
    ],
  },
  {
    name: "regions: DNS-1123 labels, <name>-<region> ≤ 63, unique",
    object: c({
      regions: [{ name: "EU" }, { name: "us-east-1" }, { name: "r".repeat(51) }, { name: "us-east-1" }],
    }),
    deny: [
      'spec.regions[0].name: "EU" is not a DNS-1123 label',
      `spec.regions[2].name: "support-chat-${"r".repeat(51)}" (the region's Deployment and Service) is longer than 63 characters`,
      "spec.regions[3].name: duplicates spec.regions[1].name",
    ],
  },
  {
    name: "workload schema rules (PDB, update strategy, HPA)",
    object: c({
      podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 },
      updateStrategy: { type: "Recreate", rollingUpdate: {} },
      horizontalPodAutoscaler: { minReplicas: 5, maxReplicas: 3 },
    }),
    deny: [
      "spec.podDisruptionBudget: set at most one of minAvailable and maxUnavailable",
      "spec.updateStrategy.rollingUpdate: rollingUpdate is only allowed with type RollingUpdate (type is Recreate)",
      "spec.horizontalPodAutoscaler.minReplicas: minReplicas (5) must be less than or equal to maxReplicas (3)",
    ],
  },
  {
    name: "TLS needs a source; cert-manager needs an issuer",
    object: c({ tls: { enabled: true } }),
    deny: ["spec.tls: enabled needs secretRef or certManager"],
  },
  {
    name: "cert-manager without issuer and without operator default",
    object: c({ tls: { enabled: true, certManager: true } }),
    deny: ["spec.tls.certManagerIssuer: is required with certManager (the operator has no default issuer)"],
  },
  {
    name: "cert-manager without issuer is fine with the operator's default issuer",
    object: c({ tls: { enabled: true, certManager: true } }),
    options: { defaultClientIssuer: "letsencrypt" },
  },
  {
    name: "TLS Secrets: same namespace (docs/concepts.md X-3), missing ones are warnings",
    object: c({ tls: { enabled: true, secretRef: { name: "tls-cert", namespace: "certs" } } }),
    deny: [
      'spec.tls.secretRef.namespace: Secret "certs/tls-cert" is in another namespace than this object ("team"); Pods can only use Secrets of their own namespace',
    ],
  },
  {
    name: "sameSite None needs secure cookies",
    object: c({ sessionConfig: { cookieConfig: { sameSite: "None", secure: false } } }),
    deny: ["spec.sessionConfig.cookieConfig.secure: must be true with sameSite None"],
  },
  {
    name: "external session backends need an endpoint or a Secret",
    object: c({ sessionConfig: { backend: "redis", backendConfig: { keyPrefix: "chat:" } } }),
    deny: ["spec.sessionConfig.backendConfig: needs endpoint or secretRef for backend redis"],
  },
  {
    name: "session backend Secrets: same namespace, missing is a warning",
    object: c({
      sessionConfig: { backend: "postgres", backendConfig: { secretRef: { name: "pg", namespace: "db" } } },
      tls: { enabled: true, secretRef: { name: "nope" } },
    }),
    deny: [
      'spec.sessionConfig.backendConfig.secretRef.namespace: Secret "db/pg" is in another namespace than this object ("team"); Pods can only use Secrets of their own namespace',
    ],
    warn: ['spec.tls.secretRef: Secret "team/nope" not found (it may be created later)'],
  },
  {
    name: "auth providers: DNS-1123 label names, unique, Secrets in the namespace",
    object: c({
      authentication: {
        enabled: true,
        providers: [
          { name: "Google", type: "oidc" },
          { name: "github", type: "oauth2", secretRef: { name: "gh", namespace: "x" } },
          { name: "github", type: "oauth2" },
        ],
      },
    }),
    deny: [
      'spec.authentication.providers[0].name: "Google" is not a DNS-1123 label',
      "spec.authentication.providers[2].name: duplicates spec.authentication.providers[1].name",
      'spec.authentication.providers[1].secretRef.namespace: Secret "x/gh" is in another namespace than this object ("team"); Pods can only use Secrets of their own namespace',
    ],
  },
  {
    name: "enabled authentication without anonymous access needs an enabled provider",
    object: c({
      authentication: {
        enabled: true,
        allowAnonymous: false,
        providers: [{ name: "sso", type: "oidc", enabled: false }],
      },
    }),
    deny: [
      "spec.authentication.providers: needs at least one enabled provider when authentication is enabled without anonymous access",
    ],
  },
  {
    name: "anonymous access allowed: no provider needed",
    object: c({ authentication: { enabled: true } }),
  },
  {
    name: "requireAuthentication with an enabled ingress needs an enabled provider",
    object: c({ authentication: { requireAuthentication: true }, ingress: { enabled: true } }),
    deny: [
      "spec.authentication.providers: needs at least one enabled provider: requireAuthentication is set and the ingress is enabled",
    ],
  },
  {
    name: "rbac defaultRole must be one of the roles",
    object: c({
      authentication: { rbac: { enabled: true, roles: [{ name: "admin" }, { name: "viewer" }] } },
    }),
    deny: ['spec.authentication.rbac.defaultRole: "user" is not one of the roles (admin, viewer)'],
  },
  {
    name: 'CORS credentials with "*"',
    object: c({
      cors: { enabled: true, allowedOrigins: ["https://a.example.com", "*"], allowCredentials: true },
    }),
    deny: ['spec.cors.allowedOrigins: must not contain "*" with allowCredentials'],
  },
  {
    name: "custom filter names are unique",
    object: c({
      contentModeration: {
        customFilters: [
          { name: "pii", pattern: "x" },
          { name: "pii", pattern: "y" },
        ],
      },
    }),
    deny: [
      "spec.contentModeration.customFilters[1].name: duplicates spec.contentModeration.customFilters[0].name",
    ],
  },
  {
    name: "reserved volume names",
    object: c({
      volumes: [
        { name: "tls", emptyDir: {} },
        { name: "auth-0", emptyDir: {} },
        { name: "session-secret", emptyDir: {} },
        { name: "client-config", emptyDir: {} },
        { name: "auth", emptyDir: {} },
      ],
    }),
    deny: [
      'spec.volumes[0].name: volume name "tls" is reserved for the operator (client-config, auth-<n>, session-secret, tls)',
      'spec.volumes[1].name: volume name "auth-0" is reserved for the operator (client-config, auth-<n>, session-secret, tls)',
      'spec.volumes[2].name: volume name "session-secret" is reserved for the operator (client-config, auth-<n>, session-secret, tls)',
      'spec.volumes[3].name: volume name "client-config" is reserved for the operator (client-config, auth-<n>, session-secret, tls)',
    ],
  },
  {
    name: "missing models (also per region), tools, agents and persona are warnings; sidecar tools are skipped",
    object: c({
      modelRefs: [{ name: "gpt" }, { name: "nope" }],
      regions: [{ name: "eu", modelRefs: [{ name: "eu-model" }] }],
      toolRefs: [{ name: "files" }, { name: "gone" }, { name: "also-gone", enabled: false }],
      agentRefs: [{ name: "support" }, { name: "bot" }],
      personaRef: { name: "ghost" },
    }),
    warn: [
      'spec.modelRefs[1]: LanguageModel "team/nope" not found (it may be created later)',
      'spec.regions[0].modelRefs[0]: LanguageModel "team/eu-model" not found (it may be created later)',
      'spec.toolRefs[0]: LanguageTool "team/files" runs in sidecar mode and is skipped',
      'spec.toolRefs[1]: LanguageTool "team/gone" not found (it may be created later)',
      'spec.agentRefs[1]: LanguageAgent "team/bot" not found (it may be created later)',
      'spec.personaRef: LanguagePersona "team/ghost" not found (it may be created later)',
    ],
  },
  {
    name: "lookups that fail are warnings",
    object: client,
    lookup: failingLookup,
    warn: ['spec.modelRefs[0]: cannot check LanguageModel "team/gpt" now: timeout'],
  },
  {
    name: "schema violations",
    object: c({ port: 99999, type: "fax", modelRefs: [{ name: "gpt", role: "boss" }] }),
    deny: [
      'spec.type: Expected "web" | "api" | "cli" | "widget" | "slack" | "discord" | "teams"',
      "spec.port: Expected a value between 1 and 65535",
      'spec.modelRefs[0].role: Expected "primary" | "fallback" | "reasoning" | "tool-calling" | "summarization"',
    ],
  },
]

describe("LanguageClient validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(clientAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(clientRuleCatalog, exercised))
})

describe("LanguageClient defaulting", () => {
  const full = c({
    modelRefs: [{ name: "gpt" }],
    regions: [
      { name: "eu", modelRefs: [{ name: "eu-model" }, { name: "x", namespace: "models" }] },
      { name: "us" },
    ],
    toolRefs: [{ name: "web-fetch" }],
    personaRef: { name: "base" },
    agentRefs: [{ name: "support" }],
    contentModeration: { action: "block", customFilters: [{ name: "pii", pattern: "x" }] },
  })

  it("sets every reference namespace, and nothing else (docs/languageclient.md CL-13)", () => {
    const { result, patch } = mutate(clientAdmission, full)
    expect(patch.map((op) => op.path)).toEqual([
      "/spec/modelRefs/0/namespace",
      "/spec/regions/0/modelRefs/0/namespace",
      "/spec/toolRefs/0/namespace",
      "/spec/personaRef/namespace",
      "/spec/agentRefs/0/namespace",
    ])
    expect(result.spec).toMatchObject({
      contentModeration: { customFilters: [{ name: "pii", pattern: "x" }] },
    })
    expect(mutate(clientAdmission, result).patch).toEqual([])
  })
})
