import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { celRules, Int32, listMap, withDefault } from "../../../src/api/shared.ts"
import { openApiSchemaOf } from "../../../src/crd/generate.ts"
import { assertStructural, toStructural } from "../../../src/crd/structural.ts"

describe("Effect schema → structural OpenAPI", () => {
  const Sample = Schema.Struct({
    port: withDefault(Int32.check(Schema.isBetween({ minimum: 1, maximum: 65535 })), 8080),
    name: Schema.String.check(Schema.isMinLength(1), Schema.isPattern(/^[a-z]+$/u)),
    labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    free: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
    items: Schema.optionalKey(
      Schema.Array(Schema.Struct({ type: Schema.String, v: Schema.optionalKey(Schema.Int) })).annotate(
        listMap("type"),
      ),
    ),
    intOrString: Schema.optionalKey(
      Schema.Union([Schema.Int, Schema.String]).annotate({ "x-kubernetes-int-or-string": true }),
    ),
    mode: Schema.optionalKey(Schema.Literals(["a", "b"])),
  }).annotate({ description: "sample", ...celRules([{ rule: "self.port > 0", message: "positive" }]) })

  it("emits defaults, bounds, patterns, markers and rules, and nothing the API server forbids", () => {
    const schema = openApiSchemaOf(Sample)
    expect(() => assertStructural(schema)).not.toThrow()
    expect(schema).toMatchObject({
      type: "object",
      description: "sample",
      required: ["name"],
      "x-kubernetes-validations": [{ rule: "self.port > 0", message: "positive" }],
      properties: {
        port: { type: "integer", minimum: 1, maximum: 65535, default: 8080, format: "int32" },
        name: { type: "string", minLength: 1, pattern: "^[a-z]+$" },
        labels: { type: "object", additionalProperties: { type: "string" } },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        items: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] },
        intOrString: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] },
        mode: { type: "string", enum: ["a", "b"] },
      },
    })
    expect(JSON.stringify(schema)).not.toContain("9007199254740991")
    expect(schema).not.toHaveProperty("additionalProperties")
  })

  it("rejects schemas that cannot be structural", () => {
    expect(() => toStructural({ $ref: "#/definitions/X" })).toThrow(/\$ref/u)
    expect(() => toStructural({ anyOf: [{ type: "string" }, { type: "object", properties: {} }] })).toThrow(
      /unions/u,
    )
    expect(() =>
      assertStructural({ type: "object", properties: {}, additionalProperties: { type: "string" } }),
    ).toThrow(/properties and additionalProperties/u)
    expect(() => assertStructural({ type: "array" })).toThrow(/items/u)
    expect(() => assertStructural({ properties: {} })).toThrow(/type is missing/u)
  })

  it("turns NullOr into nullable and merges bounds from several checks to the tightest", () => {
    expect(toStructural({ anyOf: [{ type: "string" }, { type: "null" }] })).toEqual({
      type: "string",
      nullable: true,
    })
    expect(
      toStructural({
        type: "integer",
        minimum: -9007199254740991,
        allOf: [{ minimum: 0 }, { minimum: 3, maximum: 9 }],
      }),
    ).toEqual({ type: "integer", minimum: 3, maximum: 9 })
  })
})
