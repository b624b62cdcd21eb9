// The LanguagePersona controller against the local control plane (no admission webhook installed, so
// objects the webhook would deny — cycles — can be stored): examples become Ready with the specified
// ConfigMap, parent changes re-render children, usage follows agents, drift is repaired, deletion cleans
// up, and a reconcile (or periodic resync) with nothing changed makes no API write.
import { join } from "node:path"
import { Effect, Exit, Fiber, Layer, Schema } from "effect"
import { afterAll, beforeAll, describe, expect } from "vitest"
import { LanguagePersona } from "../../../src/api/languagepersona.ts"
import { languagePersonaController } from "../../../src/controllers/languagepersona/index.ts"
import { personaJson, renderPersonaPrompt } from "../../../src/controllers/languagepersona/render.ts"
import { resolveChain } from "../../../src/domain/persona-chain.ts"
import { KubeClient, type KubeClientShape, layerFromFile } from "../../../src/kube/client.ts"
import type { ResourceDescriptor } from "../../../src/kube/resources.ts"
import type { Controller } from "../../../src/runtime/controller.ts"
import { runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { kubeconfigPath, kubectl, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const BASE = join(EXAMPLES, "languagepersona-base.yaml")
const SUPPORT = join(EXAMPLES, "languagepersona-support.yaml")
const RESYNC_MS = 3_000

// ---------------------------------------------------------------------------------------------------------
// The operator under test: the persona controller with a write-counting KubeClient.

interface Write {
  readonly verb: string
  readonly resource: string
  readonly namespace: string
  readonly name: string
}
const writes: Array<Write> = []
const reconciles = new Map<string, number>()

const counting = Layer.effect(
  KubeClient,
  Effect.gen(function* () {
    const inner = yield* KubeClient
    const note = (
      verb: string,
      r: ResourceDescriptor,
      namespace: string | undefined,
      name: string | undefined,
    ) =>
      Effect.sync(() => {
        if (r.plural !== "events")
          writes.push({ verb, resource: r.plural, namespace: namespace ?? "", name: name ?? "" })
      })
    const shape: KubeClientShape = {
      ...inner,
      create: (r, o, opts) =>
        Effect.andThen(note("create", r, o.metadata.namespace, o.metadata.name), inner.create(r, o, opts)),
      replace: (r, o, opts) =>
        Effect.andThen(note("replace", r, o.metadata.namespace, o.metadata.name), inner.replace(r, o, opts)),
      apply: (r, o, opts) =>
        Effect.andThen(
          note(
            `apply${opts.subresource ? `/${opts.subresource}` : ""}`,
            r,
            o.metadata.namespace,
            o.metadata.name,
          ),
          inner.apply(r, o, opts),
        ),
      patch: (r, at, p, opts) =>
        Effect.andThen(note("patch", r, at.namespace, at.name), inner.patch(r, at, p, opts)),
      delete: (r, at, opts) =>
        Effect.andThen(note("delete", r, at.namespace, at.name), inner.delete(r, at, opts)),
    }
    return KubeClient.of(shape)
  }),
).pipe(Layer.provide(layerFromFile(kubeconfigPath())))

const writesIn = (namespace: string) => writes.filter((w) => w.namespace === namespace)

let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  await installCrds()
  const base = languagePersonaController({ fieldManager: "langop-operator", dependencyWait: "2 seconds" })
  const ctrl: Controller<Effect.Services<ReturnType<typeof base.reconcile>>> = {
    ...base,
    reconcile: (req) =>
      Effect.tap(base.reconcile(req), () =>
        Effect.sync(() => reconciles.set(req.key, (reconciles.get(req.key) ?? 0) + 1)),
      ),
  }
  const layer = runtimeLayer({ instance: "persona-test", resyncPeriodMs: RESYNC_MS }).pipe(
    Layer.provideMerge(counting),
  )
  const fiber = Effect.runFork(
    runManager([ctrl], {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 2_000,
      concurrency: () => 2,
    }).pipe(Effect.provide(layer)),
  )
  stop = async () => {
    const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
    if (Exit.isFailure(exit) && !exit.cause.reasons.every((r) => r._tag === "Interrupt"))
      throw new Error(`manager failed: ${String(exit.cause)}`)
  }
})

afterAll(async () => {
  await stop?.()
})

// ---------------------------------------------------------------------------------------------------------
// kubectl helpers

const run = async (args: ReadonlyArray<string>, input?: string): Promise<string> => {
  const r = await kubectl(args, input === undefined ? {} : { input })
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`)
  return r.stdout
}

const getJson = async <T>(kind: string, namespace: string, name: string): Promise<T | undefined> => {
  const r = await kubectl(["get", kind, name, "-n", namespace, "-o", "json"])
  if (r.exitCode !== 0) {
    if (r.stderr.includes("NotFound")) return undefined
    throw new Error(r.stderr)
  }
  return JSON.parse(r.stdout) as T
}

interface PersonaJson {
  readonly metadata: {
    readonly finalizers?: ReadonlyArray<string>
    readonly generation: number
    readonly uid: string
  }
  readonly status?: {
    readonly phase?: string
    readonly observedGeneration?: number
    readonly conditions?: ReadonlyArray<{
      readonly type: string
      readonly status: string
      readonly reason: string
      readonly message: string
    }>
    readonly activeAgents?: ReadonlyArray<string>
    readonly usageCount?: number
    readonly validationResult?: { readonly valid: boolean; readonly errors?: ReadonlyArray<string> }
  }
}
interface ConfigMapJson {
  readonly metadata: {
    readonly uid: string
    readonly labels?: Record<string, string>
    readonly ownerReferences?: ReadonlyArray<{ readonly uid: string; readonly controller?: boolean }>
  }
  readonly data?: Record<string, string>
}

const persona = (ns: string, name: string) => getJson<PersonaJson>("languagepersona", ns, name)
const configMap = (ns: string, name: string) => getJson<ConfigMapJson>("configmap", ns, `${name}-persona`)
const reason = (p: PersonaJson | undefined, type: string) =>
  p?.status?.conditions?.find((c) => c.type === type)?.reason

const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined | false>,
  timeoutMs = 30_000,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const r = await check()
      if (r !== undefined && r !== false) return r
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const phaseIs = (ns: string, name: string, phase: string) =>
  eventually(`${ns}/${name} phase ${phase}`, async () => {
    const p = await persona(ns, name)
    return p?.status?.phase === phase && p.status.observedGeneration === p.metadata.generation ? p : undefined
  })

const applyExamples = (ns: string) => run(["apply", "-n", ns, "-f", BASE, "-f", SUPPORT])

const decodePersona = Schema.decodeUnknownSync(LanguagePersona)

// ---------------------------------------------------------------------------------------------------------

describe("LanguagePersona controller", () => {
  test("the examples become Ready with the specified ConfigMaps", async ({ namespace: ns }) => {
    await applyExamples(ns)
    const base = await phaseIs(ns, "helpful-base", "Ready")
    const support = await phaseIs(ns, "support-agent", "Ready")
    expect(base.metadata.finalizers).toContain("langop.io/finalizer")
    expect(support.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`).sort()).toEqual([
      "ParentResolved=True/Resolved",
      "Ready=True/ReconcileSuccess",
      "Reconciled=True/ReconcileSuccess",
      "Validated=True/Valid",
    ])
    expect(reason(base, "ParentResolved")).toBe("NoParent")

    const cm = await eventually("support-agent ConfigMap", () => configMap(ns, "support-agent"))
    expect(cm.metadata.labels).toMatchObject({
      "langop.io/kind": "LanguagePersona",
      "app.kubernetes.io/name": "support-agent",
    })
    expect(cm.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: support.metadata.uid, controller: true }),
    ])
    const data = cm.data ?? {}
    expect(Object.keys(data).sort()).toEqual([
      "description",
      "displayName",
      "effective.json",
      "instructions.json",
      "persona.json",
      "prompt",
      "systemPrompt",
    ])
    expect(data.displayName).toBe("Product support")

    // effective.json and prompt are exactly what the pure functions compute from the stored objects.
    const stored = await Promise.all(
      ["helpful-base", "support-agent"].map(async (n) =>
        decodePersona(JSON.parse(await run(["get", "languagepersona", n, "-n", ns, "-o", "json"]))),
      ),
    )
    const [storedBase, storedSupport] = stored
    if (storedBase === undefined || storedSupport === undefined) throw new Error("fixture")
    const chain = resolveChain(storedSupport, (k) =>
      stored.find((p) => p.metadata.name === k.name && k.namespace === ns),
    )
    if (chain._tag !== "Resolved") throw new Error(chain._tag)
    expect(data["effective.json"]).toBe(personaJson(chain.effective))
    expect(data.prompt).toBe(renderPersonaPrompt(chain.effective))
    expect(data.prompt).toContain("- Tone: friendly")

    const baseCm = await configMap(ns, "helpful-base")
    expect(baseCm?.data).toMatchObject({ tone: "friendly", language: "en" })
  })

  test("changing the parent re-renders the child's ConfigMap", async ({ namespace: ns }) => {
    await applyExamples(ns)
    await phaseIs(ns, "support-agent", "Ready")
    const prompt = "You are an exceptionally patient assistant who explains every step in plain words."
    await run([
      "patch",
      "languagepersona",
      "helpful-base",
      "-n",
      ns,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { systemPrompt: prompt } }),
    ])
    const cm = await eventually("re-rendered child prompt", async () => {
      const c = await configMap(ns, "support-agent")
      return c?.data?.prompt?.startsWith(`${prompt}\n\nYou work in first-line product support.`)
        ? c
        : undefined
    })
    expect(JSON.parse(cm.data?.["effective.json"] ?? "{}")).toMatchObject({
      systemPrompt: expect.stringContaining(prompt),
    })
  })

  test("pointing a persona at another parent re-renders it from the new chain", async ({ namespace: ns }) => {
    await applyExamples(ns)
    await phaseIs(ns, "support-agent", "Ready")
    const formalPrompt = "You are a formal assistant for enterprise customers."
    await run(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguagePersona",
        metadata: { name: "formal-base" },
        spec: {
          displayName: "Formal",
          description: "Formal tone for enterprise customers.",
          systemPrompt: formalPrompt,
          tone: "formal",
          language: "de",
        },
      }),
    )
    await phaseIs(ns, "formal-base", "Ready")
    await run([
      "patch",
      "languagepersona",
      "support-agent",
      "-n",
      ns,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { parentPersona: { name: "formal-base" } } }),
    ])
    const cm = await eventually("re-rendered from the new parent", async () => {
      const c = await configMap(ns, "support-agent")
      return c?.data?.prompt?.startsWith(`${formalPrompt}\n\nYou work in first-line product support.`)
        ? c
        : undefined
    })
    expect(cm.data?.prompt).not.toContain("You are a helpful assistant.")
    expect(JSON.parse(cm.data?.["effective.json"] ?? "{}")).toMatchObject({ tone: "formal", language: "de" })
  })

  test("a reconcile or resync with nothing changed makes no write", async ({ namespace: ns }) => {
    await applyExamples(ns)
    await phaseIs(ns, "helpful-base", "Ready")
    await phaseIs(ns, "support-agent", "Ready")
    // Let the reconciles triggered by our own writes run out: a whole reconcile of the persona
    // completes without any write in the namespace.
    await eventually(
      "a reconcile without writes",
      async () => {
        const writes = writesIn(ns).length
        const done = reconciles.get(`${ns}/helpful-base`) ?? 0
        await eventually(
          "one more reconcile",
          async () => (reconciles.get(`${ns}/helpful-base`) ?? 0) > done,
          RESYNC_MS * 4,
        )
        return writesIn(ns).length === writes
      },
      RESYNC_MS * 20,
    )
    const before = writesIn(ns).length
    const key = `${ns}/helpful-base`
    const count = reconciles.get(key) ?? 0
    await run(["annotate", "languagepersona", "helpful-base", "-n", ns, "test.langop.io/poke=1"])
    // One reconcile from the annotation plus at least one periodic resync.
    await eventually(
      "two more reconciles",
      async () => (reconciles.get(key) ?? 0) >= count + 2,
      RESYNC_MS * 4,
    )
    expect(writesIn(ns).slice(before)).toEqual([])
  })

  test("a cycle stored behind the webhook's back surfaces CircularInheritance", async ({ namespace: ns }) => {
    const doc = (name: string, parent: string) =>
      JSON.stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguagePersona",
        metadata: { name },
        spec: {
          displayName: name,
          description: "loop",
          systemPrompt: "You loop.",
          parentPersona: { name: parent },
        },
      })
    await run(["apply", "-n", ns, "-f", "-"], `${doc("loop-a", "loop-b")}\n${doc("loop-b", "loop-a")}`)
    for (const name of ["loop-a", "loop-b"]) {
      const p = await phaseIs(ns, name, "Error")
      expect(reason(p, "ParentResolved")).toBe("CircularInheritance")
      expect(reason(p, "Ready")).toBe("ValidationFailed")
      expect(p.status?.validationResult?.errors?.[0]).toMatch(/^circular inheritance: /u)
    }
  })

  test("a missing parent is NotReady until it is created", async ({ namespace: ns }) => {
    await run(["apply", "-n", ns, "-f", SUPPORT])
    const waiting = await phaseIs(ns, "support-agent", "NotReady")
    expect(reason(waiting, "Ready")).toBe("ParentNotFound")
    await run(["apply", "-n", ns, "-f", BASE])
    await phaseIs(ns, "support-agent", "Ready")
  })

  test("usage follows the agents' personaRef, old and new", async ({ namespace: ns }) => {
    await applyExamples(ns)
    const agent = (personaName: string) =>
      JSON.stringify({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageAgent",
        metadata: { name: "support", namespace: ns },
        spec: {
          image: "ghcr.io/langop/agent:1.0",
          modelRefs: [{ name: "gpt-4o-mini" }],
          personaRef: { name: personaName },
        },
      })
    await run(["apply", "-f", "-"], agent("support-agent"))
    await eventually("support-agent used by the agent", async () => {
      const p = await persona(ns, "support-agent")
      return p?.status?.usageCount === 1 && p.status.activeAgents?.[0] === `${ns}/support`
    })
    await run(["apply", "-f", "-"], agent("helpful-base"))
    await eventually("usage moved to helpful-base", async () => {
      const [s, b] = await Promise.all([persona(ns, "support-agent"), persona(ns, "helpful-base")])
      return s?.status?.usageCount === 0 && b?.status?.activeAgents?.join() === `${ns}/support`
    })
  })

  test("a deleted ConfigMap is recreated; deleting the persona removes it", async ({ namespace: ns }) => {
    await run(["apply", "-n", ns, "-f", BASE])
    await phaseIs(ns, "helpful-base", "Ready")
    const first = await eventually("ConfigMap", () => configMap(ns, "helpful-base"))
    await run(["delete", "configmap", "helpful-base-persona", "-n", ns])
    await eventually("recreated ConfigMap", async () => {
      const cm = await configMap(ns, "helpful-base")
      return cm !== undefined && cm.metadata.uid !== first.metadata.uid
    })
    await run(["delete", "languagepersona", "helpful-base", "-n", ns, "--wait=false"])
    await eventually(
      "persona and ConfigMap gone",
      async () =>
        (await persona(ns, "helpful-base")) === undefined &&
        (await configMap(ns, "helpful-base")) === undefined,
    )
    expect(writesIn(ns)).toContainEqual({
      verb: "delete",
      resource: "configmaps",
      namespace: ns,
      name: "helpful-base-persona",
    })
  })
})
