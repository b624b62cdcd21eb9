import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeAll } from "../../../src/api/decode.ts"
import { LanguageCluster, LanguageClusterKind } from "../../../src/api/languagecluster.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { celViolations } from "../support/cel.ts"

const decode = decodeAll(LanguageCluster)
const schema = crdFor(LanguageClusterKind).spec.versions[0]?.schema.openAPIV3Schema ?? {}
const base = { apiVersion: "langop.io/v1alpha1", kind: "LanguageCluster", metadata: { name: "team-a" } }

describe("LanguageCluster schema", () => {
  it("decodes with and without spec (spec is optional on this kind, docs/concepts.md X-1)", () => {
    expect(Result.isSuccess(decode({ ...base, spec: { namespace: "team-a" } }))).toBe(true)
    expect(Result.isSuccess(decode(base))).toBe(true)
  })

  it("lists every violation as field.path: rule", () => {
    const result = decode({ ...base, spec: { namespace: "Team_A", extra: 1 }, status: { conditions: [{}] } })
    expect(Result.isFailure(result)).toBe(true)
    const lines = Result.isFailure(result) ? result.failure : []
    expect(lines).toEqual(
      expect.arrayContaining([
        "spec.extra: unknown field",
        expect.stringMatching(/^spec\.namespace: Expected a string matching/u),
        "status.conditions[0].type: Required value",
        "status.conditions[0].status: Required value",
      ]),
    )
  })

  it("CEL: spec.namespace is immutable and cannot be added or removed (docs/languagecluster.md LC-1)", () => {
    const old = { spec: { namespace: "a" } }
    expect(celViolations(schema, { spec: { namespace: "a" } }, old)).toEqual([])
    expect(celViolations(schema, { spec: { namespace: "b" } }, old).map((v) => v.message)).toEqual([
      "spec.namespace is immutable",
    ])
    expect(celViolations(schema, { spec: {} }, old).map((v) => v.message)).toEqual([
      "spec.namespace cannot be added or removed after creation",
    ])
    expect(celViolations(schema, { spec: { namespace: "a" } }, { spec: {} }).map((v) => v.message)).toEqual([
      "spec.namespace cannot be added or removed after creation",
    ])
    // Creation: transition rules do not run.
    expect(celViolations(schema, { spec: { namespace: "anything" } })).toEqual([])
  })
})
