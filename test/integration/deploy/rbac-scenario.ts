// The scenario the RBAC test runs the operator through (as its ServiceAccount): every registered controller
// creates, changes and deletes each kind of object it generates, and the webhook looks things up. Objects
// carry the test's label, so only this test's webhook configurations see them. Progress is awaited on
// the recorded requests (what the operator did), not on timings.
import { expect, vi } from "vitest"
import { stringify } from "yaml"
import { kubectl } from "../setup/context.ts"
import type { RecordedRequest } from "./recording.ts"

export interface ScenarioContext {
  readonly id: string
  readonly label: string
  readonly workNs: string
  readonly log: ReadonlyArray<RecordedRequest>
}

type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: unknown }

export const scenario = (ctx: ScenarioContext) => {
  const labelled = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, labels: { [ctx.label]: ctx.id } } })
  const apply = async (...objects: ReadonlyArray<Obj>) => {
    const r = await kubectl(["apply", "-f", "-"], {
      input: objects.map((o) => `---\n${stringify(labelled(o))}`).join(""),
    })
    expect(r.exitCode, r.stderr).toBe(0)
  }
  const langop = (kind: string, name: string, spec: unknown, namespaced = true): Obj => ({
    apiVersion: "langop.io/v1alpha1",
    kind,
    metadata: { name, ...(namespaced ? { namespace: ctx.workNs } : {}) },
    spec,
  })
  const jsonpath = async (args: ReadonlyArray<string>, path: string) =>
    (await kubectl([...args, "-o", `jsonpath=${path}`])).stdout
  /** Waits until the operator made (successfully) a request of this verb on this resource. */
  const made = (verb: RecordedRequest["verb"], resource: string, name?: string, timeout = 60_000) =>
    vi.waitFor(
      () =>
        expect(
          ctx.log.some(
            (r) =>
              r.verb === verb &&
              `${r.resource}${r.subresource === undefined ? "" : `/${r.subresource}`}` === resource &&
              (name === undefined || r.name === name) &&
              r.failure === undefined,
          ),
          `${verb} ${resource} ${name ?? ""}`,
        ).toBe(true),
      { timeout, interval: 250 },
    )
  const persona = (name: string, parent?: string) =>
    langop("LanguagePersona", name, {
      displayName: name,
      description: "rbac test",
      systemPrompt: "Be brief.",
      ...(parent === undefined
        ? {}
        : {
            parentPersona: { name: parent },
            // A Secret that does not exist: the webhook's lookup misses its cache and reads it live.
            knowledgeSources: [
              {
                name: "docs",
                type: "url",
                url: "https://docs.example.com",
                secretRef: { name: "docs-credentials" },
              },
            ],
          }),
    })
  const readyOf = (name: string) =>
    jsonpath(
      ["get", "languagepersona", name, "-n", ctx.workNs],
      '{.status.conditions[?(@.type=="Ready")].status}',
    )

  const tool = (image: string, extra: Record<string, unknown>) =>
    langop("LanguageTool", "t", { image, port: 8080, ...extra })
  const serviceTool = (image: string, maxReplicas: number, port: number) =>
    tool(image, {
      deploymentMode: "service",
      podDisruptionBudget: { maxUnavailable: 1 },
      horizontalPodAutoscaler: { enabled: true, minReplicas: 1, maxReplicas },
      egress: [
        // A selector-less Service: its EndpointSlices give the peers; an in-cluster name: the Service's selector.
        { to: { service: { name: "ext" } }, ports: [{ port: 443 }] },
        { to: { dns: [`ext.${ctx.workNs}.svc`] }, ports: [{ port: 80 }] },
        // A fixed peer whose port the scenario changes: the policy must be re-applied.
        { to: { cidr: "10.1.2.3/32" }, ports: [{ port }] },
      ],
    })
  const agent = (spec: Record<string, unknown>) =>
    langop("LanguageAgent", "a", {
      image: "example.com/agent:1",
      modelRefs: [{ name: "m" }],
      toolRefs: [{ name: "t" }],
      workspace: { enabled: true, size: "1Gi" },
      ...spec,
    })
  const client = (image: string, extras: boolean) =>
    langop("LanguageClient", "c", {
      image,
      modelRefs: [{ name: "m" }],
      ...(extras
        ? {
            ingress: { enabled: true, hosts: ["c.example.com"] },
            tls: { enabled: true, certManager: true, certManagerIssuer: "iss" },
            podDisruptionBudget: { minAvailable: 1 },
            horizontalPodAutoscaler: { enabled: true, minReplicas: 1, maxReplicas: 2 },
            monitoring: { serviceMonitor: true },
          }
        : {}),
    })

  return {
    /** LanguageClusters (create / adopt / delete namespaces) and personas (ConfigMaps, usage, Events). */
    clustersAndPersonas: async () => {
      const adopt = `rbac-adopt-${ctx.id}`
      const madeNs = `rbac-made-${ctx.id}`
      const created = await kubectl(["create", "namespace", adopt])
      expect(created.exitCode, created.stderr).toBe(0)
      await apply(
        langop("LanguageCluster", `made-${ctx.id}`, { namespace: madeNs }, false),
        langop("LanguageCluster", `adopt-${ctx.id}`, { namespace: adopt }, false),
        persona("child", "base"),
        // References that do not exist: the webhook's lookups miss their caches and read them live.
        langop("LanguageAgent", "lookups", {
          image: "example.com/agent:1",
          modelRefs: [{ name: "missing-model" }],
          toolRefs: [{ name: "missing-tool" }],
          personaRef: { name: "child" },
        }),
      )
      const phaseOf = (name: string) => jsonpath(["get", "languagecluster", name], "{.status.phase}")
      await vi.waitFor(async () => expect(await phaseOf(`made-${ctx.id}`)).toBe("Ready"), { timeout: 60_000 })
      await vi.waitFor(async () => expect(await phaseOf(`adopt-${ctx.id}`)).toBe("Ready"), {
        timeout: 60_000,
      })
      await vi.waitFor(async () => expect(await readyOf("child")).toBe("False"), { timeout: 60_000 })
      // Parent appears, disappears, reappears: Ready flips, and repeated Events are patched as a series.
      for (const step of ["create", "delete", "create"] as const) {
        if (step === "create") await apply(persona("base"))
        else await kubectl(["delete", "languagepersona", "base", "-n", ctx.workNs, "--wait=true"])
        const want = step === "create" ? "True" : "False"
        await vi.waitFor(async () => expect(await readyOf("child")).toBe(want), { timeout: 60_000 })
      }
      await kubectl(["delete", "languagepersona", "child", "-n", ctx.workNs, "--timeout=60s"])
      await made("delete", "configmaps", "child-persona")
      await kubectl(["delete", "languagecluster", `made-${ctx.id}`, `adopt-${ctx.id}`, "--timeout=90s"])
      await made("delete", "namespaces", madeNs, 90_000)
      await kubectl(["delete", "namespace", adopt, "--wait=false"])
    },

    /** Tools, agents and clients: every generated kind created, changed, then deleted. */
    workloads: async () => {
      const ext = await kubectl(["apply", "-f", "-"], {
        input: stringify({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "ext", namespace: ctx.workNs },
          spec: { ports: [{ port: 443 }] },
        }),
      })
      expect(ext.exitCode, ext.stderr).toBe(0)
      // 1. create
      await apply(
        langop("LanguageModel", "m", { provider: "openai", modelName: "gpt-4o-mini" }),
        serviceTool("example.com/tool:1", 2, 443),
        agent({ executionMode: "autonomous" }),
        client("example.com/client:1", true),
      )
      for (const [resource, name] of [
        ["deployments", "t"],
        ["horizontalpodautoscalers", "t"],
        ["poddisruptionbudgets", "t"],
        ["networkpolicies", "t"],
        ["deployments", "a"],
        ["persistentvolumeclaims", "a-workspace"],
        ["networkpolicies", "a"],
        ["deployments", "c"],
        ["ingresses", "c"],
        ["horizontalpodautoscalers", "c"],
        ["poddisruptionbudgets", "c"],
      ] as const)
        await made("patch", resource, name)
      await made("list", "endpointslices")
      await made("get", "services", "ext")
      // 2. change: new image, new HPA bound, new egress port; an agent with webhook and event triggers.
      const before = ctx.log.length
      await apply(
        serviceTool("example.com/tool:2", 3, 8443),
        agent({
          executionMode: "event-driven",
          eventTriggers: [
            { type: "webhook", source: "/hook" },
            { type: "kubernetes-event", source: "Pod", filter: { type: "Warning" } },
          ],
        }),
        client("example.com/client:2", true),
      )
      const patchedAgain = (resource: string, name: string) =>
        vi.waitFor(
          () =>
            expect(
              ctx.log
                .slice(before)
                .some(
                  (r) =>
                    r.verb === "patch" &&
                    r.resource === resource &&
                    r.name === name &&
                    r.failure === undefined,
                ),
              `patch ${resource} ${name}`,
            ).toBe(true),
          { timeout: 60_000, interval: 250 },
        )
      for (const [resource, name] of [
        ["deployments", "t"],
        ["horizontalpodautoscalers", "t"],
        ["networkpolicies", "t"],
        ["services", "a"],
        ["serviceaccounts", "a"],
        ["roles", "a-events"],
        ["rolebindings", "a-events"],
        ["deployments", "c"],
      ] as const)
        await patchedAgain(resource, name)
      // 3. delete: the tool becomes a sidecar, the agent scheduled, the client plain.
      await apply(
        tool("example.com/tool:2", { deploymentMode: "sidecar" }),
        agent({ executionMode: "scheduled", schedule: "0 7 * * *" }),
        client("example.com/client:2", false),
      )
      for (const [resource, name] of [
        ["deployments", "t"],
        ["services", "t"],
        ["horizontalpodautoscalers", "t"],
        ["poddisruptionbudgets", "t"],
        ["networkpolicies", "t"],
        ["deployments", "a"],
        ["services", "a"],
        ["serviceaccounts", "a"],
        ["roles", "a-events"],
        ["rolebindings", "a-events"],
        ["ingresses", "c"],
        ["horizontalpodautoscalers", "c"],
        ["poddisruptionbudgets", "c"],
      ] as const)
        await made("delete", resource, name)
      await made("patch", "cronjobs", "a")
      // 4. back to a Deployment: the CronJob is deleted.
      await apply(agent({ executionMode: "autonomous" }))
      await made("delete", "cronjobs", "a")
      // 5. finalizers removed on deletion.
      await kubectl(["delete", "languageagent", "a", "-n", ctx.workNs, "--timeout=60s"])
      await kubectl(["delete", "languagetool", "t", "-n", ctx.workNs, "--timeout=60s"])
      await kubectl(["delete", "languageclient", "c", "-n", ctx.workNs, "--timeout=60s"])
    },

    /** A persona the live RBAC check uses. */
    persona,
    apply,
    readyOf,
  }
}
