import { describe, expect, it } from "vitest"
import {
  orderModelRefs,
  resolveDependencies,
  resolvePersona,
} from "../../../../src/controllers/languageagent/dependencies.ts"
import { agent, lookups, model, NS, persona, tool, type World } from "./fixtures.ts"

const resolve = (spec: Record<string, unknown>, world: World = {}) =>
  resolveDependencies(agent(spec), lookups(world), "cluster.local")

const blocked = (spec: Record<string, unknown>, world: World = {}) => {
  const d = resolve(spec, world).dependencies
  return d.ok ? "ok" : `${d.reason} wait=${d.wait}: ${d.message}`
}

describe("orderModelRefs (docs/languageagent.md AG-3)", () => {
  it.each([
    [[{ name: "a" }, { name: "b" }], "a,b"],
    [[{ name: "a", role: "fallback" }, { name: "b" }], "b,a"],
    [[{ name: "a" }, { name: "b", priority: 5 }, { name: "c", priority: 1 }], "c,b,a"],
    [
      [
        { name: "a", role: "fallback", priority: 0 },
        { name: "b", priority: 9 },
        { name: "c", role: "reasoning" },
      ],
      "b,c,a",
    ],
    [
      [
        { name: "x", priority: 1 },
        { name: "y", priority: 1 },
      ],
      "x,y",
    ],
  ])("%j → %s", (refs, order) => {
    const a = agent({ modelRefs: refs })
    expect(
      orderModelRefs(a.spec.modelRefs)
        .map((r) => r.name)
        .join(","),
    ).toBe(order)
  })
})

describe("models and tools", () => {
  it("every model must exist (all missing ones named); readiness is only reported", () => {
    expect(blocked({ modelRefs: [{ name: "m1" }, { name: "x" }, { name: "y", namespace: "o" }] })).toBe(
      `ModelNotFound wait=true: LanguageModel "${NS}/x", "o/y" not found; waiting for them`,
    )
    const r = resolve(
      { modelRefs: [{ name: "m1" }, { name: "m2" }] },
      { models: [model("m1"), model("m2", {}, { phase: "NotReady" })] },
    )
    expect(r.dependencies).toMatchObject({
      ok: true,
      message: `2 models and 0 tools resolved; models not Ready yet: "${NS}/m2"`,
    })
  })

  it("model entries carry URL, modelName, provider, role and priority", () => {
    const r = resolve({ modelRefs: [{ name: "m1", role: "reasoning", priority: 3 }] })
    if (!r.dependencies.ok) throw new Error("fixture")
    expect(r.dependencies.models).toEqual([
      {
        name: "m1",
        namespace: NS,
        modelName: "m1-model",
        provider: "openai",
        url: `http://m1.${NS}.svc.cluster.local:8000`,
        role: "reasoning",
        priority: 3,
        ready: true,
      },
    ])
  })

  it("tools: disabled ones are not looked up; missing ones are waited for; blocked ones are dropped", () => {
    expect(blocked({ toolRefs: [{ name: "gone", enabled: false }] })).toBe("ok")
    expect(blocked({ toolRefs: [{ name: "gone" }] })).toBe(
      `ToolNotFound wait=true: LanguageTool "${NS}/gone" not found; waiting for it`,
    )
    const r = resolve(
      {
        toolRefs: [{ name: "a" }, { name: "b", requireApproval: true }],
        safetyConfig: { blockedTools: ["a"] },
      },
      { tools: [tool("a"), tool("b", { type: "openapi" })] },
    )
    if (!r.dependencies.ok) throw new Error("fixture")
    expect(r.dependencies.tools.map((t) => [t.name, t.type, t.url, t.requireApproval])).toEqual([
      ["b", "openapi", `http://b.${NS}.svc.cluster.local:8080`, true],
    ])
  })

  it("sidecar tools: listed in order, must be in the agent's namespace (docs/concepts.md X-5)", () => {
    const r = resolve(
      { toolRefs: [{ name: "s1" }, { name: "svc" }, { name: "s2" }] },
      {
        tools: [
          tool("s1", { deploymentMode: "sidecar", port: 9000 }),
          tool("svc"),
          tool("s2", { deploymentMode: "sidecar", port: 9001 }),
        ],
      },
    )
    if (!r.dependencies.ok) throw new Error("fixture")
    expect(r.dependencies.sidecars.map((s) => `${s.namespace}/${s.name}`)).toEqual([`${NS}/s1`, `${NS}/s2`])
    expect(
      blocked(
        { toolRefs: [{ name: "s", namespace: "tools" }] },
        { tools: [tool("s", { deploymentMode: "sidecar", port: 9000 }, { namespace: "tools" })] },
      ),
    ).toMatch(
      /^CrossNamespaceSidecarUnsupported wait=false: sidecar-mode LanguageTool "tools\/s" is in another namespace/u,
    )
  })

  it("sidecar port conflicts: two sidecars on one port, or 8080 in modes that serve HTTP (docs/languageagent.md AG-16)", () => {
    const two = {
      tools: [
        tool("a", { deploymentMode: "sidecar", port: 9000 }),
        tool("b", { deploymentMode: "sidecar", port: 9000 }),
      ],
    }
    expect(blocked({ toolRefs: [{ name: "a" }, { name: "b" }] }, two)).toBe(
      'SidecarPortConflict wait=false: sidecar tools "a" and "b" both listen on port 9000',
    )
    const on8080 = { tools: [tool("a", { deploymentMode: "sidecar" })] }
    expect(blocked({ toolRefs: [{ name: "a" }], executionMode: "interactive" }, on8080)).toMatch(
      /^SidecarPortConflict wait=false/u,
    )
    expect(blocked({ toolRefs: [{ name: "a" }], executionMode: "event-driven" }, on8080)).toMatch(
      /^SidecarPortConflict/u,
    )
    expect(blocked({ toolRefs: [{ name: "a" }], executionMode: "autonomous" }, on8080)).toBe("ok")
  })

  it("sidecar volume conflicts with the agent's volumes or another sidecar's", () => {
    const vol = (name: string) => ({ name, emptyDir: {} })
    const t = (name: string, port: number, volumes: ReadonlyArray<unknown>) =>
      tool(name, { deploymentMode: "sidecar", port, volumes })
    expect(
      blocked(
        { toolRefs: [{ name: "a" }], volumes: [vol("data")] },
        { tools: [t("a", 9000, [vol("data")])] },
      ),
    ).toMatch(
      /^SidecarVolumeConflict wait=false: volume "data" of sidecar tool "a" clashes with a volume of the agent's spec.volumes/u,
    )
    expect(
      blocked(
        { toolRefs: [{ name: "a" }], workspace: { enabled: true } },
        { tools: [t("a", 9000, [vol("workspace")])] },
      ),
    ).toMatch(/^SidecarVolumeConflict/u)
    expect(blocked({ toolRefs: [{ name: "a" }] }, { tools: [t("a", 9000, [vol("workspace")])] })).toBe("ok")
    expect(blocked({ toolRefs: [{ name: "a" }] }, { tools: [t("a", 9000, [vol("agent-config")])] })).toMatch(
      /^SidecarVolumeConflict/u,
    )
    expect(
      blocked(
        { toolRefs: [{ name: "a" }, { name: "b" }] },
        { tools: [t("a", 9000, [vol("x")]), t("b", 9001, [vol("x")])] },
      ),
    ).toBe(
      'SidecarVolumeConflict wait=false: volume "x" of sidecar tool "b" clashes with a volume of sidecar tool "a"; rename one of them',
    )
  })

  it("memory store Secret and key must exist (wait)", () => {
    const spec = { memoryStore: { type: "redis", connectionSecretRef: { name: "redis", key: "url" } } }
    expect(blocked(spec)).toMatch(
      /^MemoryStoreSecretMissing wait=true: Secret "redis" \(memory store connection\) not found/u,
    )
    expect(blocked(spec, { secrets: { redis: ["api-key"] } })).toMatch(
      /^MemoryStoreSecretMissing wait=true: Secret "redis" has no key "url"/u,
    )
    expect(blocked(spec, { secrets: { redis: ["url"] } })).toBe("ok")
  })
})

describe("persona (docs/languageagent.md AG-4)", () => {
  const outcome = (world: World, ref: Record<string, unknown> = { name: "p" }) => {
    const p = resolvePersona(agent({ personaRef: ref }), lookups(world))
    return p.ok ? `${p.reason}: ${p.message}` : `${p.reason} wait=${p.wait}`
  }
  it("no persona", () =>
    expect(resolvePersona(agent(), lookups())).toEqual({
      ok: true,
      persona: undefined,
      reason: "NoPersona",
      message: "No persona referenced",
    }))
  it("missing → wait PersonaNotFound", () => expect(outcome({})).toBe("PersonaNotFound wait=true"))
  it.each([
    ["NotReady", "PersonaNotReady wait=true"],
    ["Validating", "PersonaNotReady wait=true"],
    ["Error", "PersonaInvalid wait=false"],
  ])("phase %s → %s", (phase, expected) =>
    expect(outcome({ personas: [persona("p", {}, { phase })] })).toBe(expected),
  )
  it("a missing ancestor (stale Ready status) → PersonaNotReady; a cycle → PersonaInvalid", () => {
    expect(outcome({ personas: [persona("p", { parentPersona: { name: "gone" } })] })).toBe(
      "PersonaNotReady wait=true",
    )
    expect(
      outcome({
        personas: [
          persona("p", { parentPersona: { name: "q" } }),
          persona("q", { parentPersona: { name: "p" } }),
        ],
      }),
    ).toBe("PersonaInvalid wait=false")
  })
  it("the effective persona is computed from the live chain, across namespaces", () => {
    const p = resolvePersona(
      agent({ personaRef: { name: "child", namespace: "lib" } }),
      lookups({
        personas: [
          persona("root", { tone: "casual" }, { namespace: "lib" }),
          persona("child", { parentPersona: { name: "root" } }, { namespace: "lib" }),
        ],
      }),
    )
    if (!p.ok || p.persona === undefined) throw new Error("fixture")
    expect(p.persona).toMatchObject({ name: "child", namespace: "lib" })
    expect(p.persona.effective.systemPrompt).toBe("You are root.\n\nYou are child.")
    expect(p.persona.effective.tone).toBe("casual")
    expect(p.message).toBe('Persona "lib/child" applied (inherits "root")')
  })
  it("knowledge-source Secrets are mounted from the agent's namespace only; others are noted", () => {
    const p = resolvePersona(
      agent({ personaRef: { name: "child" } }),
      lookups({
        personas: [
          persona("root", {
            knowledgeSources: [
              { name: "docs", type: "url", url: "https://d", secretRef: { name: "docs-token" } },
              { name: "off", type: "api", url: "https://o", secretRef: { name: "x" }, enabled: false },
            ],
          }),
          persona("child", {
            parentPersona: { name: "root" },
            knowledgeSources: [
              { name: "wiki", type: "api", url: "https://w", secretRef: { name: "wiki", key: "token" } },
              {
                name: "far",
                type: "api",
                url: "https://f",
                secretRef: { name: "far", namespace: "elsewhere" },
              },
            ],
          }),
        ],
      }),
    )
    if (!p.ok || p.persona === undefined) throw new Error("fixture")
    expect(p.persona.knowledge).toEqual([
      {
        volume: "knowledge-0",
        sourceName: "docs",
        secretName: "docs-token",
        key: "api-key",
        mountPath: "/etc/langop/knowledge/docs/",
      },
      {
        volume: "knowledge-2",
        sourceName: "wiki",
        secretName: "wiki",
        key: "token",
        mountPath: "/etc/langop/knowledge/wiki/",
      },
    ])
    expect(p.message).toContain('knowledge source "far" skipped')
  })
})
