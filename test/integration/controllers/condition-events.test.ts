// Warning Events for conditions that flip to False (src/controllers/common/self.ts), on the real control
// plane with two kinds: a LanguageCluster whose namespace gets labelled for another cluster (its Ready,
// NamespaceReady and Reconciled conditions turn False) and a LanguageTool of that cluster (its Ready turns
// False with ClusterNotReady, a reason the tool controller itself never reported as a Warning). Each flip is
// one Event with the condition's reason and message; reconciles afterwards add none.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse, stringify } from "yaml"
import { languageClusterController } from "../../../src/controllers/languagecluster/index.ts"
import {
  languageToolController,
  toolControllerOptionsFromSettings,
} from "../../../src/controllers/languagetool/index.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { eventually } from "../runtime/support.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLE = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "deploy",
  "examples",
  "languagetool-web-fetch.yaml",
)
const TIMEOUT = 90_000

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason: string
  readonly message: string
}
interface Obj {
  readonly metadata: { name: string; uid: string }
  readonly status?: { conditions?: ReadonlyArray<Condition> }
}
interface Event {
  readonly metadata: { name: string }
  readonly type: string
  readonly reason: string
  readonly note: string
  readonly regarding: { kind: string; name: string; uid?: string }
  readonly series?: { count: number }
}

const settings = Effect.runSync(settingsFrom({}))
const toolOptions = (() => {
  const r = toolControllerOptionsFromSettings(settings)
  if (Result.isFailure(r)) throw new Error(r.failure)
  return { ...r.success, dependencyWait: "10 minutes" as const }
})()

let operator: RunningOperator
let cluster = ""
let namespace = ""

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

const get = async (what: string, ns?: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", what, ...(ns === undefined ? [] : ["-n", ns]), "-o", "json"])
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Obj) : undefined
}

const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type)

/** Events (events.k8s.io) about the object `uid`, in `ns` (cluster-scoped objects: `default`). */
const eventsAbout = async (ns: string, uid: string): Promise<ReadonlyArray<Event>> => {
  const out = await must(["get", "events.v1.events.k8s.io", "-n", ns, "-o", "json"])
  return (JSON.parse(out) as { items: ReadonlyArray<Event> }).items.filter((e) => e.regarding.uid === uid)
}

beforeAll(async () => {
  await installCrds()
  operator = await startOperator(
    [
      languageClusterController({ fieldManager: settings.fieldManager, dependencyWait: "1 second" }),
      languageToolController(toolOptions),
    ],
    { resyncPeriodMs: 4_000 },
  )
})

afterAll(async () => {
  if (namespace !== "") await kubectl(["delete", "languagetools", "--all", "-n", namespace, "--wait=false"])
  await eventually("tool deleted", async () => (await get("languagetool/web-fetch", namespace)) === undefined)
  if (cluster !== "")
    await kubectl(["delete", "languagecluster", cluster, "--ignore-not-found", "--wait=false"])
  await eventually("cluster deleted", async () => (await get(`languagecluster/${cluster}`)) === undefined)
  await operator.stop()
})

describe("a condition that flips to False", () => {
  test("records one Warning Event with its reason and message, for a LanguageCluster and a LanguageTool", async ({
    namespace: ns,
  }) => {
    namespace = ns
    cluster = uniqueName("lc-events")
    await must(
      ["apply", "-f", "-"],
      stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageCluster",
        metadata: { name: cluster },
        spec: { namespace },
      }),
    )
    const doc = parse(readFileSync(EXAMPLE, "utf8")) as { spec: Record<string, unknown> }
    doc.spec = { ...doc.spec, clusterRef: cluster }
    await must(["apply", "-n", namespace, "-f", "-"], stringify(doc))

    const ready = async (what: string, ns?: string) =>
      eventually(
        `${what} Ready`,
        async () => {
          const o = await get(what, ns)
          return cond(o, "Ready")?.status === "True" ? o : undefined
        },
        TIMEOUT,
      )
    const lc = await ready(`languagecluster/${cluster}`)
    const tool = await ready("languagetool/web-fetch", namespace)
    // Warnings from the objects' start-up (a transient error while their dependencies settle) are not
    // flips; only what the flip below adds is judged.
    // (A repeat of one of them is folded into its Event as a series, so a flip may also count up an Event.)
    const times = (e: Event) => e.series?.count ?? 1
    const earlier = new Map(
      [
        ...(await eventsAbout("default", lc?.metadata.uid ?? "")),
        ...(await eventsAbout(namespace, tool?.metadata.uid ?? "")),
      ].map((e) => [e.metadata.name, times(e)] as const),
    )

    // Someone labels the namespace for another LanguageCluster: the cluster fails, and with it its members.
    await must(["label", "namespace", namespace, "langop.io/cluster=someone-else", "--overwrite"])
    const failed = await eventually(
      "cluster Ready=False",
      async () => {
        const o = await get(`languagecluster/${cluster}`)
        return cond(o, "Ready")?.status === "False" ? o : undefined
      },
      TIMEOUT,
    )
    const blocked = await eventually(
      "tool Ready=False",
      async () => {
        const o = await get("languagetool/web-fetch", namespace)
        return cond(o, "Ready")?.status === "False" ? o : undefined
      },
      TIMEOUT,
    )
    expect(cond(failed, "Ready")?.reason).toBe("NamespaceOwnedByOtherCluster")
    expect(cond(failed, "Reconciled")).toMatchObject({ status: "False", reason: "ReconcileError" })
    expect(cond(blocked, "Ready")?.reason).toBe("ClusterNotReady")

    const fresh = (e: Event) => e.type === "Warning" && times(e) > (earlier.get(e.metadata.name) ?? 0)
    const warnings = async () => ({
      cluster: (await eventsAbout("default", lc?.metadata.uid ?? "")).filter(fresh),
      tool: (await eventsAbout(namespace, tool?.metadata.uid ?? "")).filter(fresh),
    })
    // Expected: one Warning per condition that was True before and is False now, with its reason and
    // message (conditions failing for the same reason with the same message share one Event).
    const flips = (before: Obj | undefined, now: Obj | undefined) => [
      ...new Set(
        (now?.status?.conditions ?? [])
          .filter((c) => c.status === "False" && cond(before, c.type)?.status === "True")
          .map((c) => JSON.stringify([c.reason, c.message])),
      ),
    ]
    const pairs = (es: ReadonlyArray<Event>) => es.map((e) => JSON.stringify([e.reason, e.note]))
    const seen = await eventually(
      "one Warning Event per flipped condition",
      async () => {
        const w = await warnings()
        const expected = {
          cluster: flips(lc, await get(`languagecluster/${cluster}`)).sort(),
          tool: flips(tool, await get("languagetool/web-fetch", namespace)).sort(),
        }
        const got = { cluster: pairs(w.cluster).sort(), tool: pairs(w.tool).sort() }
        if (JSON.stringify(got) !== JSON.stringify(expected))
          throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`)
        return w
      },
      TIMEOUT,
    )
    const reasons = (es: ReadonlyArray<Event>) => es.map((e) => e.reason).sort()
    expect(reasons(seen.cluster)).toEqual(["NamespaceOwnedByOtherCluster", "ReconcileError"])
    expect(reasons(seen.tool)).toContain("ClusterNotReady")
    expect(seen.tool.find((e) => e.reason === "ClusterNotReady")?.note).toContain(
      `LanguageCluster "${cluster}" is not Ready`,
    )

    // Reconciles after the flip (an annotation change wakes both) record nothing new: neither another Event
    // nor a repeat counted on one. The operator's writes must have settled first.
    const shape = (w: Awaited<ReturnType<typeof warnings>>) =>
      JSON.stringify(
        [...w.cluster, ...w.tool].map((e) => [e.metadata.name, e.reason, e.series?.count ?? 1]).sort(),
      )
    let last = ""
    const settled = await eventually(
      "Events settle",
      async () => {
        const now = shape(await warnings())
        const same = now === last
        last = now
        await new Promise((r) => setTimeout(r, 1_500))
        return same ? now : undefined
      },
      TIMEOUT,
    )
    const before = {
      cluster: await operator.reconciles("languagecluster"),
      tool: await operator.reconciles("languagetool"),
    }
    await must(["annotate", "languagecluster", cluster, `test.langop.io/poke=${Date.now()}`])
    await must([
      "annotate",
      "languagetool",
      "web-fetch",
      "-n",
      namespace,
      `test.langop.io/poke=${Date.now()}`,
    ])
    await eventually(
      "both reconciled again",
      async () =>
        (await operator.reconciles("languagecluster")) > before.cluster + 1 &&
        (await operator.reconciles("languagetool")) > before.tool + 1,
      TIMEOUT,
    )
    expect(shape(await warnings())).toBe(settled)
    expect(JSON.parse(settled)).toHaveLength(seen.cluster.length + seen.tool.length)
  })
})
