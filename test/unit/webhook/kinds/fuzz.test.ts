/**
 * Property: the REAL defaulting and validating handlers of the six kinds (not stand-ins) answer every
 * review — valid examples with random values planted anywhere in their spec, on CREATE and UPDATE — with a
 * well-formed response of their own: no defect (a thrown error would become the server's 500 deny and block
 * `kubectl apply`), the request's uid, a message on every denial, and a JSON patch only from mutating
 * handlers.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { LangopPlurals } from "../../../../src/webhook/handlers.ts"
import { webhookTable } from "../../../../src/webhook/index.ts"
import { layerFromObjects } from "../../../../src/webhook/lookup.ts"
import type { AdmissionRequest } from "../../../../src/webhook/review.ts"
import { guardedHandler } from "../../../../src/webhook/server.ts"
import { type Json, NS, reviewOf, world } from "./support.ts"

const examplesDir = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "examples")
const examples: ReadonlyArray<Json> = readdirSync(examplesDir)
  .filter((file) => file.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(examplesDir, file), "utf8")).map((d) => d.toJS() as Json),
  )
  .filter((o) => String(o.apiVersion).startsWith("langop.io/"))
  .map((o) =>
    o.kind === "LanguageCluster" ? o : { ...o, metadata: { ...(o.metadata as Json), namespace: NS } },
  )

const table = webhookTable()
const lookups = layerFromObjects(world)

/** Sets `value` at a path of keys and indexes, creating containers on the way (replacing scalars). */
const plant = (root: Json, path: ReadonlyArray<string | number>, value: unknown): Json => {
  const [head, ...rest] = path
  if (head === undefined) return root
  const container = (Array.isArray(root) ? [...root] : { ...root }) as Record<string | number, unknown>
  const child = container[head]
  container[head] =
    rest.length === 0
      ? value
      : plant(typeof child === "object" && child !== null ? (child as Json) : {}, rest, value)
  return container as Json
}

/** Paths that exist in an example's spec (so values land where handlers look), plus made-up keys. */
const pathsOf = (
  value: unknown,
  prefix: ReadonlyArray<string | number> = [],
): Array<Array<string | number>> =>
  typeof value !== "object" || value === null
    ? []
    : Object.entries(value).flatMap(([k, v]) => {
        const key = Array.isArray(value) ? Number(k) : k
        return [[...prefix, key], ...pathsOf(v, [...prefix, key])]
      })

const junk = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom(
    "",
    "*",
    "-1",
    "0",
    "1e309",
    "../x",
    "a".repeat(300),
    "UPPER",
    "*.*.example.com",
    "::1/200",
  ),
  fc.integer(),
  fc.double(),
)

const arbitraryReview = fc
  .constantFrom(...examples)
  .chain((example) => {
    const paths = pathsOf(example.spec).map((p) => ["spec", ...p])
    const path = fc.oneof(
      fc.constantFrom(...(paths.length > 0 ? paths : [["spec"]])),
      fc
        .array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat(3)), { minLength: 1, maxLength: 4 })
        .map((p) => ["spec", ...p]),
    )
    return fc.record({
      example: fc.constant(example),
      changes: fc.array(fc.tuple(path, junk), { minLength: 1, maxLength: 4 }),
      update: fc.boolean(),
    })
  })
  .map(({ example, changes, update }) => {
    const object = changes.reduce((o, [path, value]) => plant(o, path, value), example)
    return reviewOf(object, update ? { oldObject: example } : {})
  })

const answer = (path: string, request: AdmissionRequest) => {
  const entry = table.find((e) => e.path === path)
  if (entry === undefined) throw new Error(`no handler at ${path}`)
  return Effect.runSyncExit(Effect.provide(guardedHandler(entry)(request), lookups))
}

describe("the six kinds' real admission handlers under random input", () => {
  it("always answer for themselves, well-formed", () => {
    fc.assert(
      fc.property(arbitraryReview, (request) => {
        const plural = LangopPlurals[request.kind.kind as keyof typeof LangopPlurals]
        for (const type of ["mutate", "validate"] as const) {
          const exit = answer(`/${type}/${plural}`, request)
          if (!Exit.isSuccess(exit)) throw new Error(`/${type}/${plural} failed: ${String(exit.cause)}`)
          const response = exit.value
          expect(response.uid).toBe(request.uid)
          if (!response.allowed) expect(response.status?.message ?? "").not.toBe("")
          if (type === "validate") expect(response.patch).toBeUndefined()
          expect(response.status?.code ?? 200).not.toBe(500)
        }
      }),
      { numRuns: 600 },
    )
  })
})
