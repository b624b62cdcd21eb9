// The finalizer patches the persona controller sends (src/controllers/common/finalizer.ts).
import { describe, expect, it } from "vitest"
import { addFinalizerOps, removeFinalizerOps } from "../../../../src/controllers/common/finalizer.ts"

describe("finalizer JSON patches", () => {
  it("adds the list when there is none, appends otherwise, and tests the resourceVersion", () => {
    expect(addFinalizerOps({ resourceVersion: "7" })).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/metadata/finalizers", value: ["langop.io/finalizer"] },
    ])
    expect(addFinalizerOps({ resourceVersion: "7", finalizers: ["x"] })).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/metadata/finalizers/-", value: "langop.io/finalizer" },
    ])
    expect(addFinalizerOps({ finalizers: ["langop.io/finalizer"] })).toBeUndefined()
  })

  it("removes exactly our entry, testing it first", () => {
    expect(removeFinalizerOps({ resourceVersion: "9", finalizers: ["x", "langop.io/finalizer"] })).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "9" },
      { op: "test", path: "/metadata/finalizers/1", value: "langop.io/finalizer" },
      { op: "remove", path: "/metadata/finalizers/1" },
    ])
    expect(removeFinalizerOps({ finalizers: ["x"] })).toBeUndefined()
  })
})
