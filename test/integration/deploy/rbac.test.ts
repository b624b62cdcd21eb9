// The operator's RBAC (src/operator/rbac.ts → deploy/base/rbac.yaml) against the real API server:
// the whole operator (registered controllers, admission server with its lookups, events, leader
// election) runs in-process AS ITS SERVICE ACCOUNT (the admin kubeconfig with `as:`, i.e. impersonation),
// bound to exactly the rendered ClusterRole and leader-election Role, through a scenario that exercises
// every registered controller and the webhook. Every request it makes is recorded.
// - sufficient: no request is Forbidden, and the scenario's objects reach the expected states;
// - minimal: for every rule and every verb in it, the API server's own authorizer (SubjectAccessReview)
//   denies at least one request the operator actually made once that verb is removed; one removal is
//   also observed live (the running operator gets Forbidden and recovers when the verb is back).
// Grants marked `notExercisedLocally` (with their reason) are the only ones skipped.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeConfig, type V1PolicyRule } from "@kubernetes/client-node"
import { Effect, Exit, Layer, Result, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import { parse, stringify } from "yaml"
import { KubeClient, layerFromFile, layerFromKubeConfig } from "../../../src/kube/client.ts"
import { resource } from "../../../src/kube/resources.ts"
import { operatorControllers } from "../../../src/operator/controllers.ts"
import { ensureDevCerts } from "../../../src/operator/devcerts.ts"
import { operatorClusterRules } from "../../../src/operator/manifests.ts"
import {
  activeGrants,
  clusterGrants,
  deployedComponents,
  leaderElectionGrants,
  policyRules,
} from "../../../src/operator/rbac.ts"
import { startOperator } from "../../../src/operator/run.ts"
import { loggingLayer } from "../../../src/runtime/logging.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { webhookConfigurations } from "../../../src/webhook/configurations.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import {
  createNamespace,
  deleteNamespace,
  kubeconfigPath,
  kubectl,
  makeKubeConfig,
  clusterTest as test,
  uniqueName,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RecordedRequest, recordingLayer } from "./recording.ts"

const SubjectAccessReview = resource(
  "authorization.k8s.io",
  "v1",
  "SubjectAccessReview",
  "subjectaccessreviews",
  false,
)
const admin = layerFromFile(kubeconfigPath())
const runAdmin = <A, E>(e: Effect.Effect<A, E, KubeClient>) => Effect.runPromise(Effect.provide(e, admin))

const id = uniqueName("rbac").slice(5)
const label = "langop.io/rbac-test"
const clusterRoleName = `langop-rbac-test-${id}`
const log: Array<RecordedRequest> = []
const scope = Effect.runSync(Scope.make())
let operatorNs = ""
let user = ""
let workNs = ""
const configNames = { mutating: `langop-rbac-m-${id}`, validating: `langop-rbac-v-${id}` }

const rbacYaml = (
  rules: ReadonlyArray<V1PolicyRule>,
  roleRules: ReadonlyArray<V1PolicyRule> = policyRules(leaderElectionGrants),
) =>
  [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "langop-operator", namespace: operatorNs },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: clusterRoleName },
      rules,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRoleName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
      subjects: [{ kind: "ServiceAccount", name: "langop-operator", namespace: operatorNs }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "langop-leader-election", namespace: operatorNs },
      rules: roleRules,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "langop-leader-election", namespace: operatorNs },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "langop-leader-election" },
      subjects: [{ kind: "ServiceAccount", name: "langop-operator", namespace: operatorNs }],
    },
  ]
    .map((o) => `---\n${stringify(o)}`)
    .join("")

const apply = async (yaml: string) => {
  const r = await kubectl(["apply", "-f", "-"], { input: yaml })
  expect(r.exitCode, r.stderr).toBe(0)
}

/** Is the operator's ServiceAccount allowed `req` (the API server's authorizer decides)? */
const allowed = (req: RecordedRequest) =>
  runAdmin(
    Effect.gen(function* () {
      const client = yield* KubeClient
      const review = yield* client.create(SubjectAccessReview, {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        metadata: {},
        spec: {
          user,
          groups: ["system:serviceaccounts", `system:serviceaccounts:${operatorNs}`, "system:authenticated"],
          resourceAttributes: {
            group: req.group,
            resource: req.resource,
            verb: req.verb,
            ...(req.subresource === undefined ? {} : { subresource: req.subresource }),
            ...(req.namespace === "" ? {} : { namespace: req.namespace }),
            ...(req.name === undefined ? {} : { name: req.name }),
          },
        },
      })
      return (review as { status?: { allowed?: boolean } }).status?.allowed === true
    }),
  )

const labelled = (o: Record<string, unknown> & { metadata: Record<string, unknown> }) => ({
  ...o,
  metadata: { ...o.metadata, labels: { [label]: id } },
})
const persona = (name: string, parent?: string) =>
  labelled({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguagePersona",
    metadata: { name, namespace: workNs },
    spec: {
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
    },
  })
const kubectlJson = async (args: ReadonlyArray<string>, input?: unknown) => {
  const r = await kubectl(args, input === undefined ? {} : { input: JSON.stringify(input) })
  expect(r.exitCode, r.stderr).toBe(0)
  return r
}
const jsonpath = async (args: ReadonlyArray<string>, path: string) =>
  (await kubectl([...args, "-o", `jsonpath=${path}`])).stdout
const readyOf = (name: string) =>
  jsonpath(["get", "languagepersona", name, "-n", workNs], '{.status.conditions[?(@.type=="Ready")].status}')

beforeAll(async () => {
  await installCrds()
  const kc = makeKubeConfig()
  operatorNs = await createNamespace(kc, "rbac-operator")
  workNs = await createNamespace(kc, "rbac-work")
  user = `system:serviceaccount:${operatorNs}:langop-operator`
  await apply(rbacYaml(operatorClusterRules()))

  // The admin kubeconfig, impersonating the ServiceAccount.
  const dir = mkdtempSync(join(tmpdir(), "langop-rbac-"))
  const doc = parse(readFileSync(kubeconfigPath(), "utf8")) as {
    users: Array<{ user: Record<string, unknown> }>
  }
  for (const u of doc.users) u.user.as = user
  writeFileSync(join(dir, "kubeconfig"), stringify(doc))
  const kcAs = new KubeConfig()
  kcAs.loadFromFile(join(dir, "kubeconfig"))

  const certs = await Effect.runPromise(ensureDevCerts(join(dir, "certs")))
  const settings = await Effect.runPromise(
    settingsFrom({
      POD_NAMESPACE: operatorNs,
      LANGOP_WEBHOOK_PORT: "0",
      LANGOP_HEALTH_PROBE_BIND_ADDRESS: "0",
      LANGOP_METRICS_BIND_ADDRESS: "0",
      LANGOP_CERT_DIR: certs.dir,
      LANGOP_LOG_LEVEL: "warn",
    }),
  )
  const controllers = Result.getOrThrow(operatorControllers(settings))
  const running = await Effect.runPromise(
    startOperator(settings, controllers).pipe(
      Scope.provide(scope),
      Effect.provide(Layer.mergeAll(recordingLayer(layerFromKubeConfig(kcAs), log), loggingLayer("warn"))),
    ),
  )

  // Url-form configurations under unique names, selecting only this test's objects.
  const { mutating, validating } = webhookConfigurations(webhookTable(), {
    mode: "url",
    port: running.webhookPort,
    caBundle: certs.caPem,
  })
  const scoped = (c: typeof mutating | typeof validating, name: string) => ({
    ...c,
    metadata: { name },
    webhooks: (c.webhooks ?? []).map((w) => ({
      ...w,
      objectSelector: { matchLabels: { ...(w.objectSelector?.matchLabels ?? {}), [label]: id } },
    })),
  })
  await apply(
    `---\n${stringify(scoped(mutating, configNames.mutating))}---\n${stringify(scoped(validating, configNames.validating))}`,
  )
  await vi.waitFor(() => expect(Effect.runSync(running.ready)).toBe(true), { timeout: 60_000, interval: 250 })
})

afterAll(async () => {
  await kubectl([
    "delete",
    `mutatingwebhookconfiguration/${configNames.mutating}`,
    `validatingwebhookconfiguration/${configNames.validating}`,
    "--ignore-not-found",
  ])
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await kubectl([
    "delete",
    `clusterrole/${clusterRoleName}`,
    `clusterrolebinding/${clusterRoleName}`,
    "--ignore-not-found",
  ])
  const kc = makeKubeConfig()
  await deleteNamespace(kc, operatorNs)
  await deleteNamespace(kc, workNs)
})

describe("the operator as its ServiceAccount", () => {
  test("is never Forbidden through a scenario of every registered controller and the webhook", async () => {
    const adopt = `rbac-adopt-${id}`
    const made = `rbac-made-${id}`
    await kubectlJson(["create", "-f", "-"], {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: adopt },
    })
    const cluster = (name: string, namespace: string) =>
      labelled({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageCluster",
        metadata: { name },
        spec: { namespace },
      })
    await kubectlJson(["apply", "-f", "-"], cluster(`made-${id}`, made))
    await kubectlJson(["apply", "-f", "-"], cluster(`adopt-${id}`, adopt))
    // A child persona whose parent is missing (Warning event), an agent using it (usage, webhook lookups).
    await kubectlJson(["apply", "-f", "-"], persona("child", "base"))
    await kubectlJson(["apply", "-f", "-"], {
      ...labelled({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageAgent",
        metadata: { name: "agent", namespace: workNs },
        spec: {
          image: "example.com/agent:1",
          modelRefs: [{ name: "missing-model" }],
          toolRefs: [{ name: "missing-tool" }],
          personaRef: { name: "child" },
        },
      }),
    })
    const phaseOf = (name: string) => jsonpath(["get", "languagecluster", name], "{.status.phase}")
    await vi.waitFor(async () => expect(await phaseOf(`made-${id}`)).toBe("Ready"), { timeout: 60_000 })
    await vi.waitFor(async () => expect(await phaseOf(`adopt-${id}`)).toBe("Ready"), { timeout: 60_000 })
    await vi.waitFor(async () => expect(await readyOf("child")).toBe("False"), { timeout: 60_000 })
    // Parent appears, disappears, reappears: Ready flips, and repeated Events are patched as a series.
    for (const step of ["create", "delete", "create"] as const) {
      if (step === "create") await kubectlJson(["apply", "-f", "-"], persona("base"))
      else await kubectlJson(["delete", "languagepersona", "base", "-n", workNs, "--wait=true"])
      const want = step === "create" ? "True" : "False"
      await vi.waitFor(async () => expect(await readyOf("child")).toBe(want), { timeout: 60_000 })
    }
    // Deletion: finalizer cleanup deletes the ConfigMap; cluster deletion deletes/unlabels the namespaces.
    await kubectlJson(["delete", "languagepersona", "child", "-n", workNs, "--timeout=60s"])
    await kubectlJson(["delete", "languagecluster", `made-${id}`, `adopt-${id}`, "--timeout=90s"])
    await vi.waitFor(
      async () => expect((await kubectl(["get", "namespace", made, "-o", "name"])).exitCode).not.toBe(0),
      { timeout: 90_000, interval: 500 },
    )
    await kubectl(["delete", "namespace", adopt, "--wait=false"])

    const forbidden = log.filter((r) => r.failure === "Forbidden" || r.failure === "Unauthorized")
    expect(forbidden).toEqual([])
    const used = new Set(
      log.map((r) => `${r.verb} ${r.resource}${r.subresource === undefined ? "" : `/${r.subresource}`}`),
    )
    for (const must of [
      "create namespaces",
      "patch namespaces",
      "delete namespaces",
      "patch configmaps",
      "delete configmaps",
      "patch languagepersonas/status",
      "patch languageclusters/status",
      "create events",
      "patch events",
      "get languagetools",
      "update leases",
    ])
      expect(used, must).toContain(must)
  })

  test("every rule and verb is needed: without it the API server denies a request the operator made", async () => {
    expect(log.length).toBeGreaterThan(0)
    const seen = new Map<string, RecordedRequest>()
    for (const r of log) seen.set(JSON.stringify({ ...r, failure: undefined, message: undefined }), r)
    const requests = [...seen.values()]
    const clusterRules = operatorClusterRules()
    const roleRules = policyRules(leaderElectionGrants)
    const exempt = new Set(
      policyRules(
        activeGrants(clusterGrants, deployedComponents()).filter((g) => g.notExercisedLocally !== undefined),
      ).flatMap((r) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${res}|${v}`))),
    )
    const matches = (rule: V1PolicyRule, verb: string, namespaced: boolean) => (r: RecordedRequest) =>
      r.verb === verb &&
      (!namespaced || r.namespace === operatorNs) &&
      (rule.apiGroups ?? []).includes(r.group) &&
      (rule.resources ?? []).includes(
        `${r.resource}${r.subresource === undefined ? "" : `/${r.subresource}`}`,
      )
    const without = (rules: ReadonlyArray<V1PolicyRule>, i: number, verb: string) =>
      rules
        .map((r, j) => (j === i ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r))
        .filter((r) => r.verbs.length > 0)
    const cases = [
      ...clusterRules.flatMap((rule, i) =>
        rule.verbs.map((verb) => ({
          rule,
          verb,
          namespaced: false,
          reduced: () => rbacYaml(without(clusterRules, i, verb)),
        })),
      ),
      ...roleRules.flatMap((rule, i) =>
        rule.verbs.map((verb) => ({
          rule,
          verb,
          namespaced: true,
          reduced: () => rbacYaml(clusterRules, without(roleRules, i, verb)),
        })),
      ),
    ]
    const unneeded: Array<string> = []
    try {
      for (const { rule, verb, namespaced, reduced } of cases) {
        const what = `${verb} ${(rule.resources ?? []).join(",")} (${rule.apiGroups?.[0] || "core"}${namespaced ? ", Role" : ""})`
        if ((rule.resources ?? []).every((res) => exempt.has(`${res}|${verb}`))) continue
        const candidates = requests.filter(matches(rule, verb, namespaced))
        if (candidates.length === 0) {
          unneeded.push(`${what}: the operator never made such a request`)
          continue
        }
        await apply(reduced())
        const denied = await vi
          .waitFor(
            async () => {
              for (const c of candidates) if (!(await allowed(c))) return true
              throw new Error("all still allowed")
            },
            { timeout: 10_000, interval: 200 },
          )
          .catch(() => false)
        if (!denied) unneeded.push(`${what}: every request the operator made is still allowed without it`)
      }
    } finally {
      await apply(rbacYaml(clusterRules))
    }
    expect(unneeded).toEqual([])
  })

  test("live: without `patch configmaps` a persona cannot be rendered; with it back, it recovers", async () => {
    const rules = operatorClusterRules()
    const reduced = rules.map((r) =>
      (r.resources ?? []).includes("configmaps") && r.apiGroups?.[0] === ""
        ? { ...r, verbs: r.verbs.filter((v) => v !== "patch") }
        : r,
    )
    await apply(rbacYaml(reduced))
    const probe: RecordedRequest = {
      verb: "patch",
      group: "",
      resource: "configmaps",
      subresource: undefined,
      namespace: workNs,
      name: "live-persona",
      failure: undefined,
      message: undefined,
    }
    try {
      await vi.waitFor(async () => expect(await allowed(probe)).toBe(false), {
        timeout: 10_000,
        interval: 200,
      })
      const before = log.length
      await kubectlJson(["apply", "-f", "-"], persona("live"))
      await vi.waitFor(
        () =>
          expect(
            log
              .slice(before)
              .some((r) => r.failure === "Forbidden" && r.resource === "configmaps" && r.verb === "patch"),
          ).toBe(true),
        { timeout: 30_000, interval: 250 },
      )
      expect(await readyOf("live")).not.toBe("True")
    } finally {
      await apply(rbacYaml(rules))
    }
    await vi.waitFor(async () => expect(await readyOf("live")).toBe("True"), {
      timeout: 120_000,
      interval: 500,
    })
  })
})
