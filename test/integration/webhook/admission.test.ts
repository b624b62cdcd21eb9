// The admission webhook behind a real kube-apiserver: kubectl users see every violation at once,
// defaults land on stored objects, persona cycles are refused, and dry-run is answered like a real
// request. The server runs in this process (test/integration/setup/webhook.ts).
import { afterAll, beforeAll, describe, expect } from "vitest"
import {
  createNamespace,
  deleteNamespace,
  kubectl,
  makeKubeConfig,
  clusterTest as test,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"

const manifest = (kind: string, name: string, spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "langop.io/v1alpha1", kind, metadata: { name }, spec })

const apply = (namespace: string, body: string, ...flags: ReadonlyArray<string>) =>
  kubectl(["apply", "-n", namespace, ...flags, "-f", "-"], { input: body })

const getJson = async (namespace: string, resource: string, name: string) => {
  const got = await kubectl(["get", "-n", namespace, resource, name, "-o", "json"])
  expect(got.stderr).toBe("")
  return JSON.parse(got.stdout) as { metadata: Record<string, unknown>; spec: Record<string, unknown> }
}

const invalidAgent = manifest("LanguageAgent", "broken", {
  image: "ghcr.io/langop/agent:1.0",
  executionMode: "scheduled",
  schedule: "0 25 * * *",
  modelRefs: [{ name: "gpt" }, { name: "gpt" }],
  volumes: [{ name: "workspace", emptyDir: {} }],
  egress: [{ to: { dns: ["*.*.example.com"] } }, { ports: [{ port: 443 }] }],
})

const invalidAgentLines = (namespace: string) => [
  'spec.schedule: "0 25 * * *" is not a schedule a Kubernetes CronJob accepts: hour "25" is outside 0-23',
  `spec.modelRefs[1]: duplicates spec.modelRefs[0] ("${namespace}/gpt")`,
  'spec.volumes[0].name: volume name "workspace" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
  'spec.egress[0].to.dns[0]: "*.*.example.com" is not a valid DNS name or single leading wildcard',
  "spec.egress[1]: rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
]

describe("admission webhook", () => {
  let webhook: WebhookHandle | undefined
  /** Holds an object stored before the webhook was registered (docs/concepts.md X-7). */
  let legacyNamespace = ""

  beforeAll(async () => {
    await installCrds()
    legacyNamespace = await createNamespace(makeKubeConfig(), "legacy")
    // "9legacy" is a valid object name but not a DNS-1035 label, which a tool needs (it names a Service).
    const stored = await apply(legacyNamespace, manifest("LanguageTool", "9legacy", { image: "x:1" }))
    expect(stored.exitCode).toBe(0)
    webhook = await startWebhook()
    await webhook.waitUntilServing()
  })

  afterAll(async () => {
    await webhook?.close()
    if (legacyNamespace !== "") await deleteNamespace(makeKubeConfig(), legacyNamespace)
  })

  test("kubectl apply of an invalid agent is denied with every violation, one per line", async ({
    namespace,
  }) => {
    const result = await apply(namespace, invalidAgent)
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain(
      'admission webhook "validate.languageagents.langop.io" denied the request',
    )
    for (const line of invalidAgentLines(namespace)) expect(result.stderr).toContain(`${line}\n`)
    expect(webhook?.calls("/validate/languageagents")).toBeGreaterThan(0)
  })

  test("a schedule kube-apiserver accepts for a CronJob is admitted (0 ? * * *, @every 90m)", async ({
    namespace,
  }) => {
    for (const [name, schedule] of [
      ["question-hour", "0 ? * * *"],
      ["every", "@every 90m"],
    ] as const) {
      const result = await apply(
        namespace,
        manifest("LanguageAgent", name, {
          image: "ghcr.io/langop/agent:1.0",
          executionMode: "scheduled",
          schedule,
          modelRefs: [{ name: "gpt" }],
        }),
      )
      expect(result.stderr).not.toContain("denied")
      expect(result.exitCode).toBe(0)
      expect((await getJson(namespace, "languageagent", name)).spec.schedule).toBe(schedule)
    }
  })

  test("defaults appear on the stored objects; missing references are warnings", async ({ namespace }) => {
    const agent = manifest("LanguageAgent", "support", {
      image: "ghcr.io/langop/agent:1.0",
      modelRefs: [{ name: "gpt-4o-mini" }],
      toolRefs: [{ name: "web-fetch" }, { name: "shared", namespace: "tools" }],
      personaRef: { name: "support-agent" },
      egress: [{ to: { service: { name: "ticketing" } }, ports: [{ port: 443 }] }],
    })
    const applied = await apply(namespace, agent)
    expect(applied.exitCode).toBe(0)
    expect(applied.stderr).toContain(
      `Warning: spec.toolRefs[0]: LanguageTool "${namespace}/web-fetch" not found`,
    )
    const stored = await getJson(namespace, "languageagent", "support")
    expect(stored.spec).toMatchObject({
      modelRefs: [{ name: "gpt-4o-mini", namespace }],
      toolRefs: [
        { name: "web-fetch", namespace },
        { name: "shared", namespace: "tools" },
      ],
      personaRef: { name: "support-agent", namespace },
      egress: [{ to: { service: { name: "ticketing", namespace } } }],
    })
    expect(stored.spec).not.toHaveProperty("workspace")

    const root = manifest("LanguagePersona", "root", {
      displayName: "R",
      description: "R",
      systemPrompt: "Be helpful.",
    })
    expect((await apply(namespace, root)).exitCode).toBe(0)
    expect((await getJson(namespace, "languagepersona", "root")).spec).toMatchObject({
      tone: "professional",
      language: "en",
    })
    // Re-applying the same manifest stores nothing new: kubectl's merge patch drops the namespaces,
    // the webhook writes them back, and the API server sees a no-op (same resourceVersion).
    const before = await getJson(namespace, "languageagent", "support")
    expect((await apply(namespace, agent)).exitCode).toBe(0)
    const after = await getJson(namespace, "languageagent", "support")
    expect(after.metadata).toEqual(before.metadata)
  })

  test("a persona cycle is denied; a missing parent is admitted with a warning", async ({ namespace }) => {
    const persona = (name: string, parent: string) =>
      manifest("LanguagePersona", name, {
        displayName: name,
        description: name,
        systemPrompt: "You are a careful assistant who answers briefly and precisely.",
        parentPersona: { name: parent },
      })
    const first = await apply(namespace, persona("a", "b"))
    expect(first.exitCode).toBe(0)
    expect(first.stderr).toContain(`Warning: spec.parentPersona: parent persona "${namespace}/b" not found`)
    const cycle = await apply(namespace, persona("b", "a"))
    expect(cycle.exitCode).not.toBe(0)
    expect(cycle.stderr).toContain(
      `spec.parentPersona: circular inheritance: ${namespace}/b -> ${namespace}/a -> ${namespace}/b`,
    )
    const self = await apply(namespace, persona("c", "c"))
    expect(self.stderr).toContain(`circular inheritance: ${namespace}/c -> ${namespace}/c`)
  })

  test("deleting a persona that others use is admitted with a warning naming them", async ({ namespace }) => {
    const base = manifest("LanguagePersona", "base", {
      displayName: "B",
      description: "B",
      systemPrompt: "Be helpful.",
    })
    const child = manifest("LanguagePersona", "child", {
      displayName: "C",
      description: "C",
      systemPrompt: "Be brief.",
      parentPersona: { name: "base" },
    })
    expect((await apply(namespace, base)).exitCode).toBe(0)
    expect((await apply(namespace, child)).exitCode).toBe(0)
    const deleted = await kubectl(["delete", "-n", namespace, "languagepersona", "base", "--wait=false"])
    expect(deleted.exitCode).toBe(0)
    expect(deleted.stderr).toContain(
      `Warning: LanguagePersona "${namespace}/base" is the parent of "${namespace}/child"; they will report ParentNotFound`,
    )
  })

  test("a dry-run apply is answered like a real one", async ({ namespace }) => {
    const dry = await apply(namespace, invalidAgent, "--dry-run=server")
    const real = await apply(namespace, invalidAgent)
    expect(dry.exitCode).not.toBe(0)
    expect(dry.stderr).toBe(real.stderr)

    const valid = manifest("LanguageTool", "fetch", {
      image: "ghcr.io/langop/mcp-web-fetch:1.0",
      egress: [{ to: { service: { name: "proxy" } } }],
    })
    const dryValid = await apply(namespace, valid, "--dry-run=server", "-o", "json")
    expect(dryValid.exitCode).toBe(0)
    expect(JSON.parse(dryValid.stdout)).toMatchObject({
      spec: { egress: [{ to: { service: { name: "proxy", namespace } } }] },
    })
    const absent = await kubectl(["get", "-n", namespace, "languagetool", "fetch"])
    expect(absent.stderr).toContain("NotFound")
  })

  test.for<[string, Record<string, unknown>]>([
    ["LanguageAgent", { image: "ghcr.io/langop/agent:1.0", modelRefs: [{ name: "gpt" }] }],
    ["LanguageTool", { image: "ghcr.io/langop/mcp-web-fetch:1.0" }],
    ["LanguageClient", { image: "ghcr.io/langop/client:1.0", modelRefs: [{ name: "gpt" }] }],
  ])(
    "%s: the operator's langop.io/ keys in podAnnotations and podLabels are denied, each named",
    async ([kind, spec], { namespace }) => {
      const forged = manifest(kind, "forged", {
        ...spec,
        podAnnotations: {
          "langop.io/sidecar-tools": `${namespace}/sc`,
          "langop.io/injected-tools": `${namespace}/sc`,
          "langop.io/sidecar-hash": "0".repeat(64),
          "langop.io/config-hash": "x",
        },
        podLabels: { "langop.io/kind": "LanguageAgent", "langop.io/cluster": "other" },
      })
      const denied = await apply(namespace, forged)
      expect(denied.exitCode).not.toBe(0)
      for (const key of [
        "langop.io/sidecar-tools",
        "langop.io/injected-tools",
        "langop.io/sidecar-hash",
        "langop.io/config-hash",
      ])
        expect(denied.stderr).toContain(
          `spec.podAnnotations[${key}]: annotation "${key}" is reserved for the operator`,
        )
      for (const key of ["langop.io/kind", "langop.io/cluster"])
        expect(denied.stderr).toContain(`spec.podLabels[${key}]: label "${key}" is reserved for the operator`)
      expect((await kubectl(["get", "-n", namespace, kind.toLowerCase(), "forged"])).stderr).toContain(
        "NotFound",
      )

      // The users' own peer label and foreign keys stay allowed.
      const fine = manifest(kind, "fine", {
        ...spec,
        podAnnotations: { "prometheus.io/scrape": "true" },
        podLabels: { "langop.io/group": "crawlers" },
      })
      expect((await apply(namespace, fine)).exitCode).toBe(0)
    },
  )

  test("objects stored before a rule existed can still be relabelled, not re-specced (docs/concepts.md X-7)", async () => {
    const labelled = await kubectl(["label", "-n", legacyNamespace, "languagetool", "9legacy", "team=a"])
    expect(labelled.exitCode).toBe(0)
    const changed = await apply(legacyNamespace, manifest("LanguageTool", "9legacy", { image: "x:2" }))
    expect(changed.exitCode).not.toBe(0)
    expect(changed.stderr).toContain('metadata.name: "9legacy" must be a DNS-1035 label')
  })
})
