import { describe, expect, it } from "vitest"
import { type ConditionState, flippedToFalse } from "../../../../src/controllers/common/conditions.ts"

const c = (type: string, status: ConditionState["status"], reason = "R", message = "m"): ConditionState => ({
  type,
  status,
  reason,
  message,
})

describe("flippedToFalse (which conditions get a Warning Event after a status write)", () => {
  it.each<[string, ReadonlyArray<ConditionState> | undefined, ReadonlyArray<ConditionState>, Array<string>]>([
    ["True → False", [c("Ready", "True")], [c("Ready", "False", "Broken")], ["Ready"]],
    ["Unknown → False", [c("Ready", "Unknown")], [c("Ready", "False")], ["Ready"]],
    ["False stays False (already reported)", [c("Ready", "False", "A")], [c("Ready", "False", "B")], []],
    ["absent → False (a new object still starting)", [], [c("Ready", "False")], []],
    ["no status read yet", undefined, [c("Ready", "False")], []],
    ["False → True", [c("Ready", "False")], [c("Ready", "True")], []],
    ["True stays True", [c("Ready", "True")], [c("Ready", "True", "Other")], []],
    [
      "every condition that flipped, each once",
      [c("Ready", "True"), c("Reconciled", "True"), c("EgressResolved", "False")],
      [c("EgressResolved", "False"), c("Ready", "False"), c("Reconciled", "False")],
      ["Ready", "Reconciled"],
    ],
  ])("%s", (_name, before, after, expected) => {
    expect(flippedToFalse(before, after).map((x) => x.type)).toEqual(expected)
  })

  it("returns the new condition, whose reason and message the Event carries", () => {
    expect(
      flippedToFalse([c("Ready", "True")], [c("Ready", "False", "ModelNotFound", "no model x")]),
    ).toEqual([c("Ready", "False", "ModelNotFound", "no model x")])
  })
})
