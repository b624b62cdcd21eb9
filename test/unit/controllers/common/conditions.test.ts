import { describe, expect, it } from "vitest"
import type { Condition } from "../../../../src/api/shared.ts"
import {
  reconciledCondition,
  setCondition,
  setConditions,
  writeFailureCondition,
} from "../../../../src/controllers/common/conditions.ts"

const T0 = "2026-01-01T00:00:00Z"
const T1 = "2026-01-01T00:05:00Z"
const ready = (status: "True" | "False", message = "m") =>
  ({ type: "Ready", status, reason: status === "True" ? "Ok" : "Broken", message }) as const

describe("setCondition (metav1.Condition semantics)", () => {
  it("adds a new condition with the given time and generation", () => {
    expect(setCondition(undefined, ready("True"), 3, T0)).toEqual([
      {
        type: "Ready",
        status: "True",
        reason: "Ok",
        message: "m",
        lastTransitionTime: T0,
        observedGeneration: 3,
      },
    ])
  })

  it("returns the same list when nothing changed (no status write follows)", () => {
    const list = setCondition(undefined, ready("True"), 3, T0)
    expect(setCondition(list, ready("True"), 3, T1)).toBe(list)
  })

  it("keeps lastTransitionTime when only the message or generation changes", () => {
    const list = setCondition(undefined, ready("True"), 3, T0)
    const next = setCondition(list, ready("True", "other"), 4, T1)
    expect(next[0]).toMatchObject({ message: "other", observedGeneration: 4, lastTransitionTime: T0 })
  })

  it("moves lastTransitionTime when the status flips", () => {
    const list = setCondition(undefined, ready("True"), 3, T0)
    expect(setCondition(list, ready("False"), 3, T1)[0]).toMatchObject({
      status: "False",
      reason: "Broken",
      lastTransitionTime: T1,
    })
  })

  it("keeps the list sorted by type whatever the order conditions are set in", () => {
    const a = setConditions(undefined, [ready("True"), { ...ready("True"), type: "Available" }], 1, T0)
    const b = setConditions(undefined, [{ ...ready("True"), type: "Available" }, ready("True")], 1, T0)
    expect(a.map((c: Condition) => c.type)).toEqual(["Available", "Ready"])
    expect(a).toEqual(b)
  })

  it("truncates a message the API server would reject (over 32768 characters)", () => {
    const [c] = setCondition(undefined, ready("False", "x".repeat(40_000)), 1, T0)
    expect(c?.message).toHaveLength(32768)
    expect(c?.message.endsWith("...")).toBe(true)
  })
})

describe("conditions after writing children", () => {
  const reasons = { deployment: "DeploymentFailed", service: "ServiceFailed" } as const
  const conflict = { role: "service", message: 'Service "x" is controlled by another object' }
  const failed = (role: "deployment" | "service", message: string) => ({ role, message })

  it("Reconciled=True and no Ready failure when every write succeeded", () => {
    expect(reconciledCondition({ conflicts: [], errors: [] })).toEqual({
      type: "Reconciled",
      status: "True",
      reason: "ReconcileSuccess",
      message: "All generated objects applied",
    })
    expect(writeFailureCondition({ conflicts: [], errors: [] }, reasons)).toBeUndefined()
  })

  it("Reconciled=False names every conflict and failed write", () => {
    expect(
      reconciledCondition({ conflicts: [conflict], errors: [failed("deployment", "deployment: forbidden")] }),
    ).toEqual({
      type: "Reconciled",
      status: "False",
      reason: "ReconcileError",
      message: 'Service "x" is controlled by another object; deployment: forbidden',
    })
  })

  it("a name conflict wins over failed writes", () => {
    expect(
      writeFailureCondition({ conflicts: [conflict], errors: [failed("deployment", "boom")] }, reasons),
    ).toEqual({ type: "Ready", status: "False", reason: "NameConflict", message: conflict.message })
  })

  it("otherwise the first failed write with its role's reason", () => {
    expect(
      writeFailureCondition(
        { conflicts: [], errors: [failed("service", "service: invalid"), failed("deployment", "later")] },
        reasons,
      ),
    ).toEqual({ type: "Ready", status: "False", reason: "ServiceFailed", message: "service: invalid" })
  })
})
