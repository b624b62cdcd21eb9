/**
 * The schema rules defined once in src/api/shared.ts: the CEL text the CRD carries and the `violated`
 * predicate the webhook and controllers run must give the same verdict on every value.
 */
import { describe, expect, it } from "vitest"
import {
  AutoscalerBounds,
  PodDisruptionBudgetOneOf,
  RollingUpdateOnlyWithItsType,
  type SharedRule,
} from "../../../src/api/shared.ts"
import { celViolations } from "../support/cel.ts"

const celSays = <T>(rule: SharedRule<T>, value: T): boolean =>
  celViolations({ type: "object", "x-kubernetes-validations": [rule] }, value).length > 0

const agree = <T>(rule: SharedRule<T>, values: ReadonlyArray<T>) => {
  const verdicts = values.map((value) => ({ value, cel: celSays(rule, value), ts: rule.violated(value) }))
  expect(verdicts.filter((v) => v.cel !== v.ts)).toEqual([])
  // Both verdicts occur, so the comparison is not vacuous.
  expect(new Set(verdicts.map((v) => v.ts))).toEqual(new Set([true, false]))
}

describe("shared schema rules: CEL and the TypeScript predicate agree", () => {
  it("PodDisruptionBudget: at most one of minAvailable and maxUnavailable", () =>
    agree(PodDisruptionBudgetOneOf, [
      {},
      { minAvailable: 1 },
      { maxUnavailable: 0 },
      { minAvailable: 0, maxUnavailable: 0 },
      { minAvailable: 2, maxUnavailable: 1 },
    ]))

  it("update strategy: rollingUpdate only with type RollingUpdate", () =>
    agree(RollingUpdateOnlyWithItsType, [
      {},
      { type: "RollingUpdate" },
      { type: "Recreate" },
      { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } },
      { type: "Recreate", rollingUpdate: { maxSurge: 1 } },
      { type: "Recreate", rollingUpdate: {} },
      { rollingUpdate: { maxSurge: 1 } },
    ]))

  it("autoscaler: minReplicas ≤ maxReplicas", () =>
    agree(AutoscalerBounds, [
      {},
      { minReplicas: 3 },
      { maxReplicas: 1 },
      { minReplicas: 2, maxReplicas: 2 },
      { minReplicas: 1, maxReplicas: 5 },
      { minReplicas: 5, maxReplicas: 2 },
    ]))
})
