// Property tests of the Pod handler: arbitrary input never breaks it, and injection is idempotent for
// arbitrary tools and Pods (also after the API server's defaulting).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { lookupOf, podRequest, tool } from "./pods-fixtures.ts"
import { annotationsOf, answer, apiServerDefaults, initContainersOf, volumesOf } from "./pods-support.ts"

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/u)

const toolArb = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    imagePullPolicy: fc.constantFrom("Always", "Never", "IfNotPresent"),
    env: fc.array(fc.record({ name: fc.constantFrom("PORT", "A", "B"), value: fc.string() }), {
      maxLength: 3,
    }),
    volumes: fc
      .uniqueArray(name, { maxLength: 2 })
      .map((ns) => ns.map((n) => ({ name: n, secret: { secretName: n } }))),
    imagePullSecrets: fc.array(
      name.map((n) => ({ name: n })),
      { maxLength: 2 },
    ),
    resources: fc.constant({ limits: { cpu: "0.5" } }),
    readinessProbe: fc.constant({ httpGet: { path: "/r", port: 1 } }),
    securityContext: fc.record({ runAsUser: fc.integer({ min: 0, max: 3 }) }),
    deploymentMode: fc.constantFrom("sidecar", "sidecar", "sidecar", "service"),
  },
  { requiredKeys: ["deploymentMode"] },
)

const podArb = fc.record({
  workspace: fc.option(fc.constantFrom("/workspace", "/data"), { nil: undefined }),
  volumes: fc.uniqueArray(name, { maxLength: 3 }),
  init: fc.array(fc.constantFrom("setup", "tool-a", "tool-b", "tool-zz"), { maxLength: 3 }),
  agent: fc.boolean(),
})

describe("/mutate/pods properties", () => {
  it("never fails on arbitrary objects, with or without the annotation", () => {
    const lookup = lookupOf([tool("a")]).lookup
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.string(), { nil: undefined }), (object, annotation) => {
        const withAnnotation =
          annotation !== undefined && typeof object === "object" && object !== null && !Array.isArray(object)
            ? { ...object, metadata: { annotations: { "langop.io/sidecar-tools": annotation } } }
            : object
        const { response } = answer(lookup, withAnnotation)
        expect(response.uid).toBe(podRequest(null).uid)
        expect(typeof response.allowed).toBe("boolean")
        if (!response.allowed) expect(response.status?.message).toBeTruthy()
      }),
      { numRuns: 1500 },
    )
  })

  it("injection is idempotent, also after API defaulting, and never duplicates a sidecar", () => {
    let allowed = 0
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
        fc.array(toolArb, { minLength: 3, maxLength: 3 }),
        podArb,
        (toolNames, specs, shape) => {
          const tools = toolNames.map((n, i) => tool(n, specs[i] ?? {}))
          const lookup = lookupOf(tools).lookup
          const pod = {
            metadata: {
              namespace: "team-a",
              annotations: { "langop.io/sidecar-tools": toolNames.map((n) => `team-a/${n}`).join(",") },
            },
            spec: {
              initContainers: shape.init.map((n) => ({ name: n, image: "x" })),
              containers: shape.agent
                ? [
                    {
                      name: "agent",
                      image: "a",
                      volumeMounts:
                        shape.workspace === undefined
                          ? []
                          : [{ name: "workspace", mountPath: shape.workspace }],
                    },
                  ]
                : [],
              volumes: [
                ...(shape.workspace === undefined ? [] : [{ name: "workspace", emptyDir: {} }]),
                ...shape.volumes.map((n) => ({ name: n, emptyDir: {} })),
              ],
            },
          }
          const first = answer(lookup, pod)
          if (!first.response.allowed) {
            expect(first.response.status?.message).toMatch(/LanguageTool team-a\/|entry/u)
            return
          }
          allowed++
          expect(annotationsOf(first.pod)["langop.io/injected-tools"]).toBe(
            toolNames.map((n) => `team-a/${n}`).join(","),
          )
          for (const n of toolNames)
            expect(initContainersOf(first.pod).filter((c) => c.name === `tool-${n}`)).toHaveLength(1)
          const volumeNames = volumesOf(first.pod).map((v) => v.name)
          expect(new Set(volumeNames).size).toBe(volumeNames.length)
          expect(answer(lookup, first.pod).patch).toEqual([])
          expect(answer(lookup, apiServerDefaults(first.pod)).patch).toEqual([])
        },
      ),
      { numRuns: 500 },
    )
    // The property must mostly be exercised on injections, not on denials.
    expect(allowed).toBeGreaterThan(100)
  })
})
