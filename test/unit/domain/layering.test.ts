/**
 * The layering that keeps one rule in one place: the webhook and the controllers share rules through
 * src/domain/ and never import each other, and src/domain/ imports neither (it is pure and has no
 * services). A validator copied into one side would have to be imported from the other to be shared,
 * which this test refuses.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const SRC = resolve(import.meta.dirname, "..", "..", "..", "src")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  )

/** `from`-file → every src-relative module it imports. */
const importsOf = (file: string): ReadonlyArray<string> =>
  [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/gu)].map((m) =>
    relative(SRC, resolve(file, "..", m[1] ?? "")),
  )

const violations = (from: string, forbidden: ReadonlyArray<string>) =>
  filesUnder(join(SRC, from)).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((f) => target.startsWith(`${f}/`)))
      .map((target) => `${relative(SRC, file)} → ${target}`),
  )

describe("layering of src/", () => {
  it("controllers do not import the webhook", () =>
    expect(violations("controllers", ["webhook"])).toEqual([]))
  it("the webhook does not import controllers", () =>
    expect(violations("webhook", ["controllers"])).toEqual([]))
  it("domain imports neither", () =>
    expect(violations("domain", ["webhook", "controllers", "runtime", "kube"])).toEqual([]))
})
