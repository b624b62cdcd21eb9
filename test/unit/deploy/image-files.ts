// What deploy/Dockerfile puts into the image, read from the Dockerfile and its .dockerignore, so the
// unit test (contents) and the integration test (it runs) look at the same file set.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

export const repoRoot = join(import.meta.dirname, "..", "..", "..")

const lines = (file: string) =>
  readFileSync(join(repoRoot, file), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))

const dockerfile = lines("deploy/Dockerfile")

/** The arguments of every `name` instruction, in order. */
export const instruction = (name: string): Array<string> =>
  dockerfile.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1))

/** `COPY <sources…> <dest>` lines. */
export const copies = (): Array<{ sources: Array<string>; dest: string }> =>
  instruction("COPY").map((l) => {
    const parts = l.split(/\s+/u)
    return { sources: parts.slice(0, -1), dest: parts[parts.length - 1] ?? "" }
  })

/** A .dockerignore pattern as a regular expression over slash-separated paths (Go filepath.Match plus `**`). */
const globRegex = (pattern: string): RegExp => {
  let out = ""
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? ""
    if (ch === "*" && pattern[i + 1] === "*") {
      out += ".*"
      i++
    } else if (ch === "*") out += "[^/]*"
    else if (ch === "?") out += "[^/]"
    else out += ch.replace(/[.+^${}()|[\]\\]/gu, "\\$&")
  }
  return new RegExp(`^${out}$`, "u")
}

const rules = lines("deploy/Dockerfile.dockerignore").map((l) => {
  const negate = l.startsWith("!")
  return { negate, re: globRegex((negate ? l.slice(1) : l).replace(/^\/+|\/+$/gu, "")) }
})

/** Whether the build context keeps `path`: the last rule matching it or one of its parent directories wins. */
export const inContext = (path: string): boolean => {
  const parts = path.split("/")
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"))
  let kept = true
  for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) kept = rule.negate
  return kept
}

const walk = (path: string): Array<string> =>
  statSync(join(repoRoot, path)).isDirectory()
    ? readdirSync(join(repoRoot, path)).flatMap((f) => walk(`${path}/${f}`))
    : [path]

/** Repository-relative paths of every file the COPY lines put into the image (their place under WORKDIR). */
export const imageFiles = (): Array<string> =>
  copies()
    .flatMap((c) => c.sources.flatMap(walk))
    .filter(inContext)
    .map((p) => relative(repoRoot, join(repoRoot, p)))
    .sort()
