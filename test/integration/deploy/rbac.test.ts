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
import { type LocalDns, startLocalDns } from "../setup/dns.ts"
import { findUnneeded, requestKey } from "./rbac-minimality.ts"
import { scenario } from "./rbac-scenario.ts"
import { type RecordedRequest, recordingLayer } from "./recording.ts"
import { deleteLangopObjects } from "./support.ts"

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

let dns: LocalDns | undefined

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
  dns = await startLocalDns()
  const settings = await Effect.runPromise(
    settingsFrom({
      POD_NAMESPACE: operatorNs,
      LANGOP_DNS_SERVERS: dns.server,
      LANGOP_WEBHOOK_PORT: "0",
      LANGOP_HEALTH_PROBE_BIND_ADDRESS: "0",
      LANGOP_METRICS_BIND_ADDRESS: "0",
      LANGOP_CERT_DIR: certs.dir,
      LANGOP_LOG_LEVEL: "warn",
      // On, so the scenario makes the FQDN policy list (Cilium's CRD is absent here: a 404 after authorization).
      LANGOP_CILIUM_FQDN_POLICIES: "true",
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
  // While the operator still runs: its finalizers must be removed by it.
  await deleteLangopObjects(`${label}=${id}`)
  await kubectl([
    "delete",
    `mutatingwebhookconfiguration/${configNames.mutating}`,
    `validatingwebhookconfiguration/${configNames.validating}`,
    "--ignore-not-found",
  ])
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await dns?.close()
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
  const run = () => scenario({ id, label, workNs, log })

  test("is never Forbidden through a scenario of every registered controller and the webhook", async () => {
    await run().clustersAndPersonas()
    await run().workloads()
    // RBAC denials only ("… cannot <verb> resource …"); other 403s (e.g. writing into a terminating
    // namespace left by another test) are not about permissions.
    const forbidden = log.filter(
      (r) =>
        r.failure === "Unauthorized" ||
        (r.failure === "Forbidden" && /cannot \w+ resource/u.test(r.message ?? "")),
    )
    expect(forbidden).toEqual([])
    const used = new Set(log.map((r) => `${r.verb} ${requestKey(r)}`))
    for (const must of [
      "create events",
      "patch events",
      "get languagemodels",
      "get secrets",
      "update leases",
    ])
      expect(used, must).toContain(must)
  }, 600_000)

  test("every rule is needed, and every verb: without it the API server denies a request the operator made", async () => {
    expect(log.length).toBeGreaterThan(0)
    const seen = new Map<string, RecordedRequest>()
    for (const r of log) seen.set(JSON.stringify({ ...r, failure: undefined, message: undefined }), r)
    const requests = [...seen.values()]
    const clusterRules = operatorClusterRules()
    const roleRules = policyRules(leaderElectionGrants)
    const { unneeded, skipped } = await findUnneeded({
      requests,
      clusterRules,
      roleRules,
      operatorNs,
      grants: activeGrants(clusterGrants, deployedComponents()),
      install: (cluster, role) => apply(rbacYaml(cluster, role)),
      allowed,
    })
    expect(unneeded).toEqual([])
    // What was not exercised, and why (visible in the test output).
    console.info(`RBAC verbs not exercised by the scenario:\n  ${skipped.join("\n  ")}`)
  }, 300_000)

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
    const s = run()
    try {
      await vi.waitFor(async () => expect(await allowed(probe)).toBe(false), {
        timeout: 10_000,
        interval: 200,
      })
      const before = log.length
      await s.apply(s.persona("live"))
      await vi.waitFor(
        () =>
          expect(
            log
              .slice(before)
              .some((r) => r.failure === "Forbidden" && r.resource === "configmaps" && r.verb === "patch"),
          ).toBe(true),
        { timeout: 30_000, interval: 250 },
      )
      expect(await s.readyOf("live")).not.toBe("True")
    } finally {
      await apply(rbacYaml(rules))
    }
    await vi.waitFor(async () => expect(await s.readyOf("live")).toBe("True"), {
      timeout: 120_000,
      interval: 500,
    })
  })

  test("live: without the Event read verbs the operator cannot give an agent its event-trigger Role", async () => {
    const rules = operatorClusterRules()
    const reduced = rules
      .map((r) =>
        (r.resources ?? []).includes("events") && r.verbs.includes("watch")
          ? { ...r, verbs: r.verbs.filter((v) => !["get", "list", "watch"].includes(v)) }
          : r,
      )
      .filter((r) => r.verbs.length > 0)
    await apply(rbacYaml(reduced))
    const s = run()
    try {
      const before = log.length
      await s.apply(
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguageModel",
          metadata: { name: "m2", namespace: workNs },
          spec: { provider: "openai", modelName: "x" },
        },
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguageAgent",
          metadata: { name: "events", namespace: workNs },
          spec: {
            image: "example.com/agent:1",
            modelRefs: [{ name: "m2" }],
            executionMode: "event-driven",
            eventTriggers: [{ type: "kubernetes-event", source: "Pod" }],
          },
        },
      )
      await vi.waitFor(
        () =>
          expect(
            log
              .slice(before)
              .some(
                (r) =>
                  r.failure === "Forbidden" &&
                  r.resource === "roles" &&
                  r.name === "events-events" &&
                  /attempting to grant RBAC permissions not currently held/u.test(r.message ?? ""),
              ),
          ).toBe(true),
        { timeout: 60_000, interval: 250 },
      )
    } finally {
      await apply(rbacYaml(rules))
    }
    // A change brings the agent back from its failure backoff at once.
    await kubectl([
      "annotate",
      "languageagent",
      "events",
      "-n",
      workNs,
      "rbac-test/restored=1",
      "--overwrite",
    ])
    await vi.waitFor(
      async () =>
        expect((await kubectl(["get", "role", "events-events", "-n", workNs, "-o", "name"])).exitCode).toBe(
          0,
        ),
      { timeout: 120_000, interval: 500 },
    )
  })
})
