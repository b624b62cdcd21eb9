// What precedes a Deployment's server-side apply: the merge patch that clears a defaulted rollingUpdate on a
// switch to Recreate, and the replicas-only object that keeps the count while an autoscaler takes over.
import { describe, expect, it } from "vitest"
import { replicasHandover, strategyPatch } from "../../../../src/controllers/common/deployment.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"

const deployment = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "demo" },
  spec,
})
const defaulted = { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } }

describe("strategyPatch", () => {
  it("Recreate over a live rollingUpdate: set the type and remove rollingUpdate in one patch", () => {
    expect(
      strategyPatch(deployment({ strategy: { type: "Recreate" } }), deployment({ strategy: defaulted })),
    ).toEqual({ spec: { strategy: { type: "Recreate", rollingUpdate: null } } })
  })

  it.each([
    ["no live object (a create)", { type: "Recreate" }, undefined],
    ["live already Recreate", { type: "Recreate" }, { type: "Recreate" }],
    ["RollingUpdate wanted", { type: "RollingUpdate" }, defaulted],
    ["no strategy wanted", undefined, defaulted],
  ])("nothing when %s", (_w, wanted, live) => {
    expect(
      strategyPatch(
        deployment(wanted === undefined ? {} : { strategy: wanted }),
        live === undefined ? undefined : deployment({ strategy: live }),
      ),
    ).toBeUndefined()
  })
})

describe("replicasHandover", () => {
  it("desired without replicas over a live count not applied that way before: the count, alone", () => {
    expect(replicasHandover(deployment({ template: {} }), deployment({ replicas: 3 }), false)).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "demo" },
      spec: { replicas: 3 },
    })
  })

  it.each([
    ["the desired object sets replicas", deployment({ replicas: 2 }), deployment({ replicas: 3 }), false],
    ["there is no live object", deployment({}), undefined, false],
    ["the live object was last applied exactly so", deployment({}), deployment({ replicas: 3 }), true],
  ])("nothing when %s", (_w, desired, live, same) => {
    expect(replicasHandover(desired, live, same)).toBeUndefined()
  })
})
