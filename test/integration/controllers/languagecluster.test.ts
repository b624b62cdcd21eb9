// The LanguageCluster controller against the real local control plane: namespace creation and adoption,
// status, deletion semantics (only namespaces it created are deleted), drift repair, and no writes when
// nothing changed.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { parse, stringify } from "yaml"
import { languageClusterController } from "../../../src/controllers/languagecluster/index.ts"
import { eventually } from "../runtime/support.ts"
import { createNamespace, kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { type RunningOperator, startOperator } from "../setup/operator.ts"

const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "deploy", "examples", "languagecluster.yaml")

interface Obj {
  readonly metadata: {
    readonly name: string
    readonly uid: string
    readonly generation?: number
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
    readonly finalizers?: ReadonlyArray<string>
    readonly ownerReferences?: ReadonlyArray<{
      kind: string
      name: string
      uid: string
      controller?: boolean
    }>
    readonly deletionTimestamp?: string
  }
  readonly status?: {
    readonly observedGeneration?: number
    readonly phase?: string
    readonly namespace?: string
    readonly conditions?: ReadonlyArray<{ type: string; status: string; reason: string; message: string }>
  }
}

const get = async (what: string): Promise<Obj | undefined> => {
  const r = await kubectl(["get", what, "-o", "json"])
  if (r.exitCode !== 0) {
    if (/NotFound|not found/u.test(r.stderr)) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as Obj
}

const must = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await kubectl(args, input !== undefined ? { input } : {})
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`)
  return r.stdout
}

/** The example, renamed so every run (and test) gets its own cluster and namespace. */
const exampleCluster = (name: string, namespace: string | undefined) => {
  const doc = parse(readFileSync(EXAMPLE, "utf8")) as {
    metadata: { name: string }
    spec: { namespace?: string }
  }
  doc.metadata.name = name
  if (namespace === undefined) delete doc.spec.namespace
  else doc.spec.namespace = namespace
  return stringify(doc)
}

const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type)

const readyCluster = (name: string, reason = "ReconcileSuccess") =>
  eventually(`LanguageCluster ${name} Ready`, async () => {
    const c = await get(`languagecluster/${name}`)
    return c?.status?.phase === "Ready" && cond(c, "Ready")?.reason === reason ? c : undefined
  })

const gone = (what: string, timeoutMs = 60_000) =>
  eventually(`${what} deleted`, async () => (await get(what)) === undefined, timeoutMs)

const terminatingOrGone = (ns: string) =>
  eventually(`namespace ${ns} deleted`, async () => {
    const n = await get(`namespace/${ns}`)
    return n === undefined || n.metadata.deletionTimestamp !== undefined
  })

/** Periodic resync of the test operator (the no-write test waits for one). */
const RESYNC_MS = 3_000
let operator: RunningOperator
const clusters: Array<string> = []

beforeAll(async () => {
  await installCrds()
  operator = await startOperator(
    [languageClusterController({ fieldManager: "langop-operator", dependencyWait: "1 second" })],
    { resyncPeriodMs: RESYNC_MS },
  )
})

afterAll(async () => {
  // Delete while the operator still runs, so our finalizer is removed.
  for (const name of clusters)
    await kubectl(["delete", "languagecluster", name, "--ignore-not-found", "--wait=false"])
  for (const name of clusters) await gone(`languagecluster/${name}`)
  await operator.stop()
})

const newCluster = async (namespace: string | undefined) => {
  const name = uniqueName("lc")
  clusters.push(name)
  await must(["apply", "-f", "-"], exampleCluster(name, namespace))
  return name
}

describe("LanguageCluster", () => {
  test("the example creates its namespace (labels, annotation, owner) and reports Ready; deleting it deletes the namespace", async () => {
    const nsName = uniqueName("lc-demo")
    const name = await newCluster(nsName)
    const c = await readyCluster(name)
    expect(c.metadata.finalizers).toContain("langop.io/finalizer")
    expect(c.status?.namespace).toBe(nsName)
    // `kubectl wait --for=jsonpath`, kstatus and Argo CD compare it with metadata.generation.
    expect(c.status?.observedGeneration).toBe(c.metadata.generation)
    expect(cond(c, "NamespaceReady")).toMatchObject({ status: "True", reason: "NamespaceCreated" })
    expect(cond(c, "Reconciled")).toMatchObject({ status: "True", reason: "ReconcileSuccess" })
    const ns = await get(`namespace/${nsName}`)
    expect(ns?.metadata.labels).toMatchObject({ "langop.io/cluster": name, "langop.io/managed": "true" })
    expect(ns?.metadata.annotations?.["langop.io/created-by-cluster"]).toBe("true")
    expect(ns?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "LanguageCluster", name, uid: c.metadata.uid, controller: true }),
    ])
    // kubectl's printer columns show phase and namespace.
    expect(await must(["get", "languagecluster", name, "--no-headers"])).toMatch(
      new RegExp(`${name}\\s+True\\s+Ready\\s+${nsName}`, "u"),
    )

    await must(["delete", "languagecluster", name, "--wait=false"])
    await gone(`languagecluster/${name}`)
    await terminatingOrGone(nsName)
  })

  test("without spec.namespace it uses <name>-ns", async () => {
    const name = await newCluster(undefined)
    const c = await readyCluster(name)
    expect(c.status?.namespace).toBe(`${name}-ns`)
    expect((await get(`namespace/${name}-ns`))?.metadata.labels?.["langop.io/cluster"]).toBe(name)
  })

  test("adopts an existing namespace and, when deleted, leaves it in place without our label", async ({
    kc,
  }) => {
    const existing = await createNamespace(kc, "lc-adopt")
    try {
      const name = await newCluster(existing)
      const c = await readyCluster(name)
      expect(cond(c, "NamespaceReady")).toMatchObject({ status: "True", reason: "NamespaceAdopted" })
      const ns = await get(`namespace/${existing}`)
      expect(ns?.metadata.labels?.["langop.io/cluster"]).toBe(name)
      expect(ns?.metadata.labels?.["langop.io/test"]).toBe("true")
      expect(ns?.metadata.annotations?.["langop.io/created-by-cluster"]).toBeUndefined()
      expect(ns?.metadata.ownerReferences).toBeUndefined()

      await must(["delete", "languagecluster", name, "--wait=false"])
      await gone(`languagecluster/${name}`)
      const after = await get(`namespace/${existing}`)
      expect(after?.metadata.deletionTimestamp).toBeUndefined()
      expect(after?.metadata.labels?.["langop.io/cluster"]).toBeUndefined()
      expect(after?.metadata.labels?.["langop.io/test"]).toBe("true")
    } finally {
      await kubectl(["delete", "namespace", existing, "--wait=false"])
    }
  })

  test("refuses a namespace that belongs to another cluster, and never deletes it", async ({ kc }) => {
    const existing = await createNamespace(kc, "lc-foreign")
    try {
      await must(["label", "namespace", existing, "langop.io/cluster=someone-else"])
      const name = await newCluster(existing)
      const c = await eventually("Failed", async () => {
        const o = await get(`languagecluster/${name}`)
        return o?.status?.phase === "Failed" ? o : undefined
      })
      expect(cond(c, "Ready")).toMatchObject({ status: "False", reason: "NamespaceOwnedByOtherCluster" })
      await must(["delete", "languagecluster", name, "--wait=false"])
      await gone(`languagecluster/${name}`)
      const after = await get(`namespace/${existing}`)
      expect(after?.metadata.deletionTimestamp).toBeUndefined()
      expect(after?.metadata.labels?.["langop.io/cluster"]).toBe("someone-else")
    } finally {
      await kubectl(["delete", "namespace", existing, "--wait=false"])
    }
  })

  test("a computed <name>-ns that is too long is reported as InvalidNamespaceName", async () => {
    const name = `${uniqueName("lc")}-${"x".repeat(50)}`
    clusters.push(name)
    await must(["apply", "-f", "-"], exampleCluster(name, undefined))
    const c = await eventually("Failed", async () => {
      const o = await get(`languagecluster/${name}`)
      return o?.status?.phase === "Failed" ? o : undefined
    })
    expect(cond(c, "Ready")).toMatchObject({ status: "False", reason: "InvalidNamespaceName" })
  })

  test("recreates its namespace after someone deletes it", async () => {
    const nsName = uniqueName("lc-drift")
    const name = await newCluster(nsName)
    const before = await readyCluster(name)
    const firstUid = (await get(`namespace/${nsName}`))?.metadata.uid
    await must(["delete", "namespace", nsName, "--wait=false"])
    const recreated = await eventually(
      "namespace recreated",
      async () => {
        const n = await get(`namespace/${nsName}`)
        return n !== undefined && n.metadata.uid !== firstUid && n.metadata.deletionTimestamp === undefined
          ? n
          : undefined
      },
      90_000,
    )
    expect(recreated.metadata.annotations?.["langop.io/created-by-cluster"]).toBe("true")
    const after = await readyCluster(name)
    expect(after.metadata.uid).toBe(before.metadata.uid)
  })

  test("a reconcile with nothing changed makes no write", async () => {
    const nsName = uniqueName("lc-idle")
    const name = await newCluster(nsName)
    await readyCluster(name)
    const mine = () =>
      operator
        .writes()
        .filter((w) => !w.dryRun && w.kind !== "Event" && (w.name === name || w.name === nsName))
    // Let the watch events caused by our own writes settle.
    await eventually("writes settle", async () => {
      const n = mine().length
      await new Promise((r) => setTimeout(r, 1500))
      return mine().length === n
    })
    const writesBefore = mine().length
    const reconcilesBefore = await operator.reconciles("languagecluster")
    // Touching metadata triggers a reconcile of this cluster but changes nothing it decides on.
    await must(["annotate", "languagecluster", name, `touched=${Date.now()}`])
    await must(["label", "namespace", nsName, "unrelated=yes"])
    await eventually(
      "two more reconciles",
      async () => (await operator.reconciles("languagecluster")) >= reconcilesBefore + 2,
    )
    await new Promise((r) => setTimeout(r, 1000))
    expect(mine().slice(writesBefore)).toEqual([])

    // A periodic resync with nothing touched reconciles again and writes nothing either.
    const resyncFrom = await operator.reconciles("languagecluster")
    await eventually(
      "a periodic resync",
      async () => (await operator.reconciles("languagecluster")) > resyncFrom,
      3 * RESYNC_MS,
    )
    await new Promise((r) => setTimeout(r, 500))
    expect(mine().slice(writesBefore)).toEqual([])
  })
})
