// The RBAC table (src/operator/rbac.ts) checked against the code, so it cannot drift:
// - every informer of every registered controller (its `sources`) and of the admission lookups is
//   covered by list + watch;
// - every direct API call the running components make (`client.get(Builtin.X …)`, `kube.apply(Langop.Y,
//   … subresource: "status")`, `applyStatus(Langop.Y, …)` …), found by scanning their sources, is covered;
// - conversely every rendered (resource, verb) is needed by one of the two, or says why no local test
//   can exercise it.
// The integration test test/integration/deploy/rbac.test.ts checks the same against a real API server.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { CHILD_SOURCES } from "../../../src/controllers/languageagent/gather.ts"
import { EVENT_READER_RULES } from "../../../src/controllers/languageagent/support.ts"
import { ROLE_RESOURCE as CLIENT_CHILDREN } from "../../../src/controllers/languageclient/decide.ts"
import { CertManagerIssuer, ServiceMonitor } from "../../../src/controllers/languageclient/names.ts"
import { ROLE_RESOURCE as MODEL_CHILDREN } from "../../../src/controllers/languagemodel/gather.ts"
import { ROLE_RESOURCE as TOOL_CHILDREN } from "../../../src/controllers/languagetool/decide.ts"
import { Builtin, Langop, type ResourceDescriptor } from "../../../src/kube/resources.ts"
import { CiliumNetworkPolicyResource } from "../../../src/network/cilium.ts"
import { controllerRegistry, operatorControllers } from "../../../src/operator/controllers.ts"
import { operatorClusterRules } from "../../../src/operator/manifests.ts"
import {
  activeGrants,
  clusterGrants,
  deployedComponents,
  leaderElectionGrants,
  permissionsOf,
  policyRules,
  selfCertGrants,
  type Verb,
} from "../../../src/operator/rbac.ts"
import {
  agentSource,
  modelSource,
  personaSource,
  secretSource,
  toolSource,
} from "../../../src/runtime/sources.ts"
import { settingsFrom } from "../../../src/settings.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const settings = Effect.runSync(settingsFrom({}))
const rules = operatorClusterRules()
const allowed = new Set(permissionsOf(rules, "").map((p) => key(p.group, p.resource, p.subresource, p.verb)))

function key(group: string, resource: string, subresource: string | undefined, verb: string): string {
  return `${group}|${resource}${subresource === undefined ? "" : `/${subresource}`}|${verb}`
}
const keyOfDescriptor = (r: ResourceDescriptor, verb: Verb, subresource?: string) =>
  key(r.group, r.plural, subresource, verb)

const descriptors: Record<string, ResourceDescriptor> = {
  ...Object.fromEntries(Object.entries(Builtin).map(([k, v]) => [`Builtin.${k}`, v])),
  ...Object.fromEntries(Object.entries(Langop).map(([k, v]) => [`Langop.${k}`, v])),
  // Descriptors the controllers define themselves, by the name their code uses.
  ServiceMonitor,
  CertManagerIssuer,
  CiliumNetworkPolicyResource,
}
const verbOfCall: Record<string, Verb> = {
  get: "get",
  list: "list",
  listAll: "list",
  watch: "watch",
  create: "create",
  replace: "update",
  apply: "patch",
  patch: "patch",
  delete: "delete",
}

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith(".ts") ? [p] : []
  })

/** `x.verb(Builtin.Kind, …)` calls with their subresource (balanced-paren argument text). */
const scanCalls = (file: string) => {
  const text = readFileSync(file, "utf8")
  const calls: Array<{ file: string; need: string }> = []
  const re = /\.(get|listAll|list|watch|create|replace|apply|patch|delete)\(\s*((?:Builtin\.|Langop\.)?\w+)/gu
  for (const m of text.matchAll(re)) {
    const resource = descriptors[m[2] ?? ""]
    const verb = verbOfCall[m[1] ?? ""]
    if (resource === undefined || verb === undefined) continue
    let depth = 0
    let end = m.index + 1 + (m[1] ?? "").length
    for (; end < text.length; end++) {
      if (text[end] === "(") depth++
      if (text[end] === ")" && --depth === 0) break
    }
    const args = text.slice(m.index, end)
    const sub = /subresource:\s*"(\w+)"/u.exec(args)?.[1]
    calls.push({ file: file.slice(root.length + 1), need: keyOfDescriptor(resource, verb, sub) })
    // Server-side apply of an object that does not exist yet is authorized as create.
    if (m[1] === "apply" && sub === undefined)
      calls.push({ file: file.slice(root.length + 1), need: keyOfDescriptor(resource, "create") })
  }
  // `applyIfChanged(kube, Descriptor, …)` (common/apply.ts): server-side apply, which creates a new object.
  for (const m of text.matchAll(/\bapplyIfChanged\(\s*\w+,\s*((?:Builtin\.|Langop\.)?\w+)/gu)) {
    const resource = descriptors[m[1] ?? ""]
    if (resource === undefined) continue
    for (const verb of ["patch", "create"] as const)
      calls.push({ file: file.slice(root.length + 1), need: keyOfDescriptor(resource, verb) })
  }
  // The writes to the reconciled object itself go through src/controllers/common/self.ts.
  const selfWrites = /\b(applyStatus|addFinalizer|removeFinalizer)\(\s*((?:Builtin\.|Langop\.)?\w+)/gu
  for (const m of text.matchAll(selfWrites)) {
    const resource = descriptors[m[2] ?? ""]
    if (resource === undefined) continue
    calls.push({
      file: file.slice(root.length + 1),
      need: keyOfDescriptor(resource, "patch", m[1] === "applyStatus" ? "status" : undefined),
    })
  }
  return calls
}

// The running operator: registered controllers (their own folders + the shared helpers and the egress
// gathering they call) and the webhook.
// Leader election (Role), events (own grant) and the certificate manager (overlay) are checked below.
const scannedDirs = [
  ...controllerRegistry.map((c) => join(root, "src", "controllers", c.name)),
  join(root, "src", "controllers", "common"),
  join(root, "src", "network"),
  join(root, "src", "webhook"),
]
const calls = scannedDirs.flatMap(filesUnder).flatMap(scanCalls)

const controllers = Result.getOrThrow(operatorControllers(settings))

/**
 * Generated children, from each controller's own child table: written by server-side apply (`applyIfChanged`:
 * patch, and create for a new object), deleted when no longer wanted, read live on a cache miss.
 */
const childTables: Record<string, ReadonlyArray<ResourceDescriptor>> = {
  languagetool: Object.values(TOOL_CHILDREN),
  languagemodel: Object.values(MODEL_CHILDREN),
  languageagent: Object.values(CHILD_SOURCES).map((s) => s.resource),
  languageclient: Object.values(CLIENT_CHILDREN),
}
/** Children the controller never deletes itself (src/controllers/languageagent/plan.ts: a PVC goes with its agent). */
const neverDeleted = new Set([Builtin.PersistentVolumeClaim.plural])
const childNeeds = controllerRegistry.flatMap((c) =>
  (childTables[c.name] ?? []).flatMap((r) =>
    (["get", "create", "patch", "delete"] as const)
      .filter((v) => v !== "delete" || !neverDeleted.has(r.plural))
      .map((v) => ({ from: c.name, need: keyOfDescriptor(r, v) })),
  ),
)
/** What the agent controller grants in agents' Roles, the operator must hold (RBAC escalation prevention). */
const grantedNeeds = controllerRegistry.some((c) => c.name === "languageagent")
  ? EVENT_READER_RULES.flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          r.verbs.map((v) => ({ from: "languageagent", need: key(g, res, undefined, v) })),
        ),
      ),
    )
  : []
/** What the informers need: list + watch of every source of every controller. */
const informerNeeds = controllers.flatMap((c) =>
  c.sources.flatMap((s) => [
    { from: c.name, need: keyOfDescriptor(s.source.resource, "list") },
    { from: c.name, need: keyOfDescriptor(s.source.resource, "watch") },
  ]),
)
/** The admission lookups (src/webhook/lookup.ts): informers plus one live GET on a miss. */
const lookupNeeds = [toolSource, modelSource, personaSource, agentSource, secretSource].flatMap((s) =>
  (["get", "list", "watch"] as const).map((v) => ({ from: "webhook", need: keyOfDescriptor(s.resource, v) })),
)

describe("operator ClusterRole", () => {
  it("has no wildcard and lists only known verbs", () => {
    for (const rule of rules) {
      expect(rule.apiGroups).not.toContain("*")
      expect(rule.resources).not.toContain("*")
      expect(rule.verbs).not.toContain("*")
      for (const v of rule.verbs)
        expect(["get", "list", "watch", "create", "update", "patch", "delete"]).toContain(v)
    }
  })

  it("covers every informer of every registered controller", () => {
    expect(controllers.length).toBe(controllerRegistry.length)
    const missing = informerNeeds.filter((n) => !allowed.has(n.need))
    expect(missing).toEqual([])
  })

  it("covers every controller's generated children and what agents' Roles grant", () => {
    expect(childNeeds.length).toBeGreaterThan(0)
    expect([...childNeeds, ...grantedNeeds].filter((n) => !allowed.has(n.need))).toEqual([])
  })

  it("covers the admission lookups", () => {
    expect(lookupNeeds.filter((n) => !allowed.has(n.need))).toEqual([])
  })

  it("covers every API call found in the controllers and the webhook", () => {
    expect(calls.length).toBeGreaterThan(5)
    expect(calls.filter((c) => !allowed.has(c.need))).toEqual([])
  })

  it("grants nothing that no informer, call or stated reason needs", () => {
    const needed = new Set(
      [...informerNeeds, ...lookupNeeds, ...calls, ...childNeeds, ...grantedNeeds].map((n) => n.need),
    )
    const events = keyOfDescriptor(Builtin.Event, "create")
    const eventSeries = keyOfDescriptor(Builtin.Event, "patch")
    const stated = new Set(
      permissionsOf(
        policyRules(
          activeGrants(clusterGrants, deployedComponents()).filter(
            (g) => g.notExercisedLocally !== undefined,
          ),
        ),
        "",
      ).map((p) => key(p.group, p.resource, p.subresource, p.verb)),
    )
    const unneeded = [...allowed].filter(
      (k) => !needed.has(k) && !stated.has(k) && k !== events && k !== eventSeries,
    )
    expect(unneeded).toEqual([])
  })

  it("renders only the grants of running components (a controller's grants come with its registration)", () => {
    const withoutPersona = new Set([...deployedComponents()].filter((c) => c !== "languagepersona"))
    const reduced = new Set(
      permissionsOf(policyRules(activeGrants(clusterGrants, withoutPersona)), "").map((p) =>
        key(p.group, p.resource, p.subresource, p.verb),
      ),
    )
    expect(reduced.has(key("langop.io", "languagepersonas", "status", "patch"))).toBe(false)
    expect(reduced.has(key("langop.io", "languagepersonas", "finalizers", "update"))).toBe(false)
    // The webhook still reads personas.
    expect(reduced.has(key("langop.io", "languagepersonas", undefined, "watch"))).toBe(true)
  })

  it("merges grants deterministically: one rule per verb set, sorted", () => {
    expect(policyRules(activeGrants(clusterGrants, deployedComponents()))).toEqual(rules)
    const again = policyRules([...activeGrants(clusterGrants, deployedComponents())].reverse())
    expect(again).toEqual(rules)
    const seen = new Set<string>()
    for (const r of rules) {
      for (const res of r.resources ?? []) {
        const k = `${r.apiGroups?.[0]}|${res}|${(r.resourceNames ?? []).join(",")}`
        expect(seen.has(k)).toBe(false)
        seen.add(k)
      }
    }
  })
})

describe("namespaced and overlay grants", () => {
  it("leader election uses exactly get/create/update on leases (src/runtime/leaderelection.ts)", () => {
    const text = readFileSync(join(root, "src", "runtime", "leaderelection.ts"), "utf8")
    const used = new Set(scanCalls(join(root, "src", "runtime", "leaderelection.ts")).map((c) => c.need))
    expect(text).toContain("Builtin.Lease")
    const granted = new Set(
      permissionsOf(policyRules(leaderElectionGrants), "x").map((p) =>
        key(p.group, p.resource, p.subresource, p.verb),
      ),
    )
    expect(granted).toEqual(used)
  })

  it("the event recorder's calls are the events grant", () => {
    const used = new Set(scanCalls(join(root, "src", "runtime", "events.ts")).map((c) => c.need))
    expect(used).toEqual(
      new Set([keyOfDescriptor(Builtin.Event, "create"), keyOfDescriptor(Builtin.Event, "patch")]),
    )
  })

  it("the self-managed certificates touch only their Secret (by name, except create) and their two configurations", () => {
    const { namespaced, cluster } = selfCertGrants("langop-webhook-tls")
    const used = new Set(scanCalls(join(root, "src", "operator", "certmanager.ts")).map((c) => c.need))
    expect(used).toEqual(
      new Set([
        keyOfDescriptor(Builtin.Secret, "get"),
        keyOfDescriptor(Builtin.Secret, "create"),
        keyOfDescriptor(Builtin.Secret, "update"),
      ]),
    )
    const ns = permissionsOf(policyRules(namespaced), "langop-system")
    expect(ns.filter((p) => p.verb !== "create").every((p) => p.name === "langop-webhook-tls")).toBe(true)
    const cl = permissionsOf(policyRules(cluster), "")
    expect(new Set(cl.map((p) => `${p.resource}/${p.verb}/${p.name}`))).toEqual(
      new Set([
        "mutatingwebhookconfigurations/get/langop-mutating",
        "mutatingwebhookconfigurations/get/langop-validating",
        "mutatingwebhookconfigurations/patch/langop-mutating",
        "mutatingwebhookconfigurations/patch/langop-validating",
        "validatingwebhookconfigurations/get/langop-mutating",
        "validatingwebhookconfigurations/get/langop-validating",
        "validatingwebhookconfigurations/patch/langop-mutating",
        "validatingwebhookconfigurations/patch/langop-validating",
      ]),
    )
  })
})
