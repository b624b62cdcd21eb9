import { describe, expect, it } from "vitest"
import type { LanguagePersona } from "../../../../src/api/languagepersona.ts"
import type { LiveConfigMap } from "../../../../src/controllers/languagepersona/configmap.ts"
import {
  decide,
  decideCleanup,
  decideStatus,
  type PersonaDecision,
  type PersonaInput,
} from "../../../../src/controllers/languagepersona/decide.ts"
import { resolveChain } from "../../../../src/domain/persona-chain.ts"
import { child, examplePersona, lookupOf, persona } from "./fixtures.ts"

const T0 = "2025-01-01T00:00:00Z"
const T1 = "2025-01-01T01:00:00Z"
const T2 = "2025-01-01T02:00:00Z"

const LONG_PROMPT = "You are a careful assistant who answers product questions precisely."
const clean = { systemPrompt: LONG_PROMPT, examples: [{ input: "a", output: "b" }] }

const inputFor = (
  p: LanguagePersona,
  others: ReadonlyArray<LanguagePersona> = [],
  overrides: Partial<PersonaInput> = {},
): PersonaInput => ({
  persona: p,
  chain: resolveChain(p, lookupOf(p, ...others)),
  configMap: undefined,
  agents: [],
  secretExists: () => true,
  now: T0,
  ...overrides,
})

/** The world after `decision` was carried out: finalizer, ConfigMap and status as written. */
const settled = (input: PersonaInput, decision: PersonaDecision, now: string): PersonaInput => {
  const cm: LiveConfigMap | undefined =
    decision.configMap._tag === "Apply"
      ? {
          metadata: { ...decision.configMap.object.metadata, uid: "cm-uid" },
          data: decision.configMap.object.data,
        }
      : input.configMap
  const p: LanguagePersona = {
    ...input.persona,
    metadata: { ...input.persona.metadata, finalizers: ["langop.io/finalizer"] },
    status: decision.status,
  }
  return { ...input, persona: p, chain: resolveChain(p, () => undefined), configMap: cm, now }
}

const condition = (d: PersonaDecision, type: string) => d.status.conditions?.find((c) => c.type === type)
const summary = (d: PersonaDecision) =>
  Object.fromEntries((d.status.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`])) as Record<
    string,
    string
  >

describe("decide: a fresh root persona", () => {
  const p = persona("root", clean)
  const d = decide(inputFor(p))

  it("adds the finalizer, applies the ConfigMap and becomes Ready", () => {
    expect(d.addFinalizer).toBe(true)
    expect(d.configMap._tag).toBe("Apply")
    expect(d.status.phase).toBe("Ready")
    expect(summary(d)).toEqual({
      ParentResolved: "True NoParent",
      Validated: "True Valid",
      Reconciled: "True ReconcileSuccess",
      Ready: "True ReconcileSuccess",
    })
    expect(condition(d, "Ready")).toMatchObject({
      message: "Persona configuration is ready",
      observedGeneration: 1,
    })
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      usageCount: 0,
      activeAgents: [],
      validationResult: { valid: true, errors: [], warnings: [], score: 100, validationTime: T0 },
      message: "Persona configuration is ready",
      reason: "ReconcileSuccess",
      lastUpdateTime: T0,
    })
    expect(d.statusChanged).toBe(true)
    expect(d.events).toEqual([{ type: "Normal", reason: "Ready", note: "Persona configuration is ready" }])
    expect(d.waiting).toBe(false)
  })

  it("writes nothing on the next reconcile, even much later", () => {
    const again = decide(settled(inputFor(p), d, T1))
    expect(again.addFinalizer).toBe(false)
    expect(again.configMap._tag).toBe("Unchanged")
    expect(again.statusChanged).toBe(false)
    expect(again.events).toEqual([])
    expect(again.status).toEqual(d.status)
  })

  it("ignores runtime-reported metrics when comparing status", () => {
    const next = settled(inputFor(p), d, T1)
    const withMetrics = {
      ...next,
      persona: { ...next.persona, status: { ...d.status, metrics: { totalInteractions: 5 } } },
    }
    expect(decide(withMetrics).statusChanged).toBe(false)
  })
})

describe("decide: the ConfigMap", () => {
  it("carries the own-spec keys of the original plus effective.json and prompt", () => {
    const base = examplePersona("languagepersona-base.yaml")
    const support = examplePersona("languagepersona-support.yaml")
    const d = decide(inputFor(support, [base]))
    if (d.configMap._tag !== "Apply") throw new Error(d.configMap._tag)
    const cm = d.configMap.object
    expect(cm.metadata).toEqual({
      name: "support-agent-persona",
      namespace: "ns",
      labels: {
        "app.kubernetes.io/name": "support-agent",
        "app.kubernetes.io/managed-by": "language-operator",
        "app.kubernetes.io/part-of": "langop",
        "langop.io/kind": "LanguagePersona",
      },
      ownerReferences: [
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguagePersona",
          name: "support-agent",
          uid: "uid-languagepersona-support.yaml",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    })
    expect(Object.keys(cm.data)).toEqual([
      "description",
      "displayName",
      "effective.json",
      "instructions.json",
      "persona.json",
      "prompt",
      "systemPrompt",
    ])
    expect(cm.data["instructions.json"]).toBe(
      '["Quote the relevant documentation page when you answer from it."]',
    )
    expect(JSON.parse(cm.data["persona.json"] ?? "")).toMatchObject({
      parentPersona: { name: "helpful-base" },
    })
    const effective = JSON.parse(cm.data["effective.json"] ?? "") as Record<string, unknown>
    expect(effective).toMatchObject({ tone: "friendly", language: "en" })
    expect(effective.version).toBeUndefined()
    expect(effective.parentPersona).toBeUndefined()
    expect(cm.data.prompt?.startsWith("You are a helpful assistant.")).toBe(true)
    expect(cm.data.prompt).toContain("\n\nStyle:\n- Tone: friendly\n- Language: en")
  })

  it("includes tone and language only when the persona sets them", () => {
    const d = decide(inputFor(persona("root", { ...clean, tone: "formal", language: "de" })))
    expect(d.configMap._tag === "Apply" && d.configMap.object.data).toMatchObject({
      tone: "formal",
      language: "de",
    })
  })

  const first = decide(inputFor(persona("root", clean)))
  const live = settled(inputFor(persona("root", clean)), first, T1)

  it("re-applies after drift in a key we own, and leaves keys of others alone", () => {
    const cm = live.configMap as LiveConfigMap
    const drifted = { ...live, configMap: { ...cm, data: { ...cm.data, systemPrompt: "edited" } } }
    expect(decide(drifted).configMap._tag).toBe("Apply")
    const extra = { ...live, configMap: { ...cm, data: { ...cm.data, "user-key": "x" } } }
    expect(decide(extra).configMap._tag).toBe("Unchanged")
    const stale = { ...live, configMap: { ...cm, data: { ...cm.data, "instructions.json": "[]" } } }
    expect(decide(stale).configMap._tag).toBe("Apply")
    const unlabelled = { ...live, configMap: { ...cm, metadata: { ...cm.metadata, labels: {} } } }
    expect(decide(unlabelled).configMap._tag).toBe("Apply")
  })

  it("adopts an uncontrolled ConfigMap", () => {
    const unowned = { ...live, configMap: { metadata: {}, data: {} } }
    expect(decide(unowned).configMap._tag).toBe("Apply")
  })

  it("never writes a ConfigMap controlled by someone else: NameConflict", () => {
    const foreign = {
      ...live,
      configMap: {
        metadata: { ownerReferences: [{ controller: true, uid: "other", kind: "LanguageAgent", name: "x" }] },
        data: {},
      },
    }
    const d = decide(foreign)
    expect(d.configMap._tag).toBe("Conflict")
    expect(d.status.phase).toBe("NotReady")
    expect(summary(d)).toMatchObject({ Ready: "False NameConflict", Reconciled: "False ReconcileError" })
    expect(condition(d, "Ready")?.message).toBe(
      'ConfigMap "root-persona" is controlled by LanguageAgent "x"; rename or delete it',
    )
    expect(condition(d, "Ready")?.lastTransitionTime).toBe(T1)
    expect(d.waiting).toBe(true)
    expect(d.events).toEqual([
      {
        type: "Warning",
        reason: "NameConflict",
        note: 'ConfigMap "root-persona" is controlled by LanguageAgent "x"; rename or delete it',
      },
    ])
  })

  it("reports a failed apply as ConfigMapError and keeps the last observedGeneration", () => {
    const bumped = {
      ...live,
      persona: { ...live.persona, metadata: { ...live.persona.metadata, generation: 2 } },
    }
    const s = decideStatus(bumped, { _tag: "Failed", message: "applying failed: boom" })
    expect(s.status.phase).toBe("NotReady")
    expect(s.status.observedGeneration).toBe(1)
    expect(s.status.reason).toBe("ConfigMapError")
    expect(s.events).toEqual([{ type: "Warning", reason: "ConfigMapError", note: "applying failed: boom" }])
  })
})

describe("decide: inheritance", () => {
  const parent = persona("parent", clean)

  it("a resolved child names its chain", () => {
    const d = decide(inputFor(child("kid", "parent", clean), [parent]))
    expect(condition(d, "ParentResolved")).toMatchObject({
      status: "True",
      reason: "Resolved",
      message: 'Inherits from "ns/parent"; chain: ns/kid -> ns/parent',
    })
    expect(d.status.phase).toBe("Ready")
  })

  it("a missing parent: NotReady, waiting, ConfigMap without effective keys", () => {
    const d = decide(inputFor(child("kid", "parent", clean)))
    expect(d.status.phase).toBe("NotReady")
    expect(summary(d)).toEqual({
      ParentResolved: "False ParentNotFound",
      Validated: "True Valid",
      Reconciled: "True ReconcileSuccess",
      Ready: "False ParentNotFound",
    })
    expect(d.status.message).toBe('parent persona "ns/parent" not found')
    expect(d.waiting).toBe(true)
    expect(d.configMap._tag === "Apply" && Object.keys(d.configMap.object.data)).not.toContain(
      "effective.json",
    )
    expect(d.events).toEqual([
      { type: "Warning", reason: "ParentNotFound", note: 'parent persona "ns/parent" not found' },
    ])
  })

  it("a missing parent with own errors is Error", () => {
    const d = decide(inputFor(child("kid", "parent", { ...clean, constraints: { maxToolCalls: -1 } })))
    expect(d.status.phase).toBe("Error")
    expect(summary(d)).toMatchObject({
      ParentResolved: "False ParentNotFound",
      Ready: "False ValidationFailed",
    })
  })

  it("a cycle is an error: CircularInheritance", () => {
    const a = child("a", "b", clean)
    const b = child("b", "a", clean)
    const d = decide(inputFor(a, [b]))
    expect(d.status.phase).toBe("Error")
    expect(summary(d)).toEqual({
      ParentResolved: "False CircularInheritance",
      Validated: "False ValidationFailed",
      Reconciled: "True ReconcileSuccess",
      Ready: "False ValidationFailed",
    })
    expect(d.status.validationResult).toMatchObject({
      valid: false,
      errors: ["circular inheritance: ns/a -> ns/b -> ns/a"],
      score: 75,
    })
    expect(d.status.message).toBe("circular inheritance: ns/a -> ns/b -> ns/a")
    expect(d.waiting).toBe(false)
  })

  it("more than 10 ancestors: InheritanceTooDeep", () => {
    const line = [persona("p0", clean)]
    for (let i = 1; i <= 11; i++) line.push(child(`p${i}`, `p${i - 1}`, clean))
    const last = line[11]
    if (last === undefined) throw new Error("fixture")
    const d = decide(inputFor(last, line))
    expect(summary(d)).toMatchObject({
      ParentResolved: "False InheritanceTooDeep",
      Ready: "False ValidationFailed",
    })
    expect(d.status.phase).toBe("Error")
  })

  it("an invalid ancestor makes the persona invalid: ParentInvalid", () => {
    const bad = persona("bad", { ...clean, rules: [{ name: "r", condition: "", action: "a" }] })
    const mid = child("mid", "bad", clean)
    const d = decide(inputFor(child("kid", "mid", clean), [bad, mid]))
    expect(d.status.phase).toBe("Error")
    expect(summary(d)).toMatchObject({
      ParentResolved: "False ParentInvalid",
      Validated: "False ValidationFailed",
    })
    expect(d.status.validationResult?.errors).toEqual([
      'parent persona "ns/bad" is invalid: rule "r": condition must not be blank',
    ])
  })

  it("warnings are computed on the effective persona (inherited examples count)", () => {
    const kid = child("kid", "parent", { systemPrompt: "Short." })
    const d = decide(inputFor(kid, [parent]))
    expect(d.status.validationResult?.warnings).toEqual([])
  })
})

describe("decide: validation result", () => {
  it("records own errors and warnings with the score, and flips Ready to Error", () => {
    const p = persona("p", {
      constraints: { maxToolCalls: -1 },
      knowledgeSources: [{ name: "kb", type: "document", secretRef: { name: "missing" } }],
    })
    const d = decide(inputFor(p, [], { secretExists: () => false }))
    expect(d.status.validationResult).toEqual({
      valid: false,
      validationTime: T0,
      errors: ["constraints.maxToolCalls must not be negative (got -1)"],
      warnings: [
        "no examples",
        "systemPrompt is shorter than 50 characters",
        'knowledge source "kb": Secret "missing" not found',
      ],
      score: 60,
    })
    expect(condition(d, "Validated")?.message).toBe("constraints.maxToolCalls must not be negative (got -1)")
    expect(d.events).toEqual([
      {
        type: "Warning",
        reason: "ValidationFailed",
        note: "constraints.maxToolCalls must not be negative (got -1)",
      },
    ])
  })

  it("updates validationTime only when the result changes; lastTransitionTime only on a flip", () => {
    const p = persona("p", clean)
    const d0 = decide(inputFor(p))
    const world = settled(inputFor(p), d0, T1)
    // A new warning (the Secret disappeared): result changes, Validated stays True.
    const withSecret = {
      ...clean,
      knowledgeSources: [{ name: "kb", type: "document", secretRef: { name: "s" } }],
    }
    const p1 = {
      ...world.persona,
      spec: persona("p", withSecret).spec,
      metadata: { ...world.persona.metadata, generation: 2 },
    }
    const d1 = decide({
      ...world,
      persona: p1,
      chain: resolveChain(p1, () => undefined),
      secretExists: () => false,
    })
    expect(d1.status.validationResult?.validationTime).toBe(T1)
    expect(condition(d1, "Validated")).toMatchObject({
      status: "True",
      lastTransitionTime: T0,
      observedGeneration: 2,
    })
    expect(d1.status.observedGeneration).toBe(2)
    expect(d1.events).toEqual([])
    // Same result later: nothing changes.
    const world2 = settled({ ...world, persona: p1, secretExists: () => false }, d1, T2)
    const d2 = decide(world2)
    expect(d2.statusChanged).toBe(false)
    expect(d2.status.validationResult?.validationTime).toBe(T1)
  })
})

describe("decide: usage", () => {
  it("lists agents sorted and de-duplicated; a change rewrites status without touching validationTime", () => {
    const p = persona("p", clean)
    const d0 = decide(inputFor(p))
    const world = settled(inputFor(p), d0, T1)
    const d1 = decide({ ...world, agents: ["ns/zeta", "other/alpha", "ns/zeta"] })
    expect(d1.status).toMatchObject({
      usageCount: 2,
      activeAgents: ["ns/zeta", "other/alpha"],
      lastUpdateTime: T1,
    })
    expect(d1.status.validationResult?.validationTime).toBe(T0)
    expect(d1.statusChanged).toBe(true)
    expect(d1.configMap._tag).toBe("Unchanged")
    expect(d1.events).toEqual([])
  })
})

describe("decideCleanup", () => {
  const p = {
    ...persona("p"),
    metadata: { ...persona("p").metadata, finalizers: ["other", "langop.io/finalizer"] },
  }

  it("deletes our ConfigMap (by uid) and removes the finalizer", () => {
    const ours = {
      metadata: {
        uid: "cm",
        ownerReferences: [{ controller: true, uid: "uid-p", kind: "LanguagePersona", name: "p" }],
      },
    }
    expect(decideCleanup(p, ours)).toEqual({ deleteConfigMap: { uid: "cm" }, removeFinalizer: true })
  })

  it("leaves a foreign or missing ConfigMap alone", () => {
    const foreign = {
      metadata: {
        uid: "cm",
        ownerReferences: [{ controller: true, uid: "x", kind: "LanguageAgent", name: "p" }],
      },
    }
    expect(decideCleanup(p, foreign).deleteConfigMap).toBeUndefined()
    expect(decideCleanup(p, undefined).deleteConfigMap).toBeUndefined()
  })

  it("does nothing about a finalizer that is not ours", () => {
    expect(decideCleanup(persona("p"), undefined).removeFinalizer).toBe(false)
  })
})
