/**
 * The generated CRDs on a real kube-apiserver: they install and become Established, every example in
 * `deploy/examples/` passes server-side dry-run with strict field validation, and every CEL fixture is
 * admitted or rejected by the API server exactly as the client-side evaluation in the unit tests says.
 */
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect } from "vitest"
import { stringify } from "yaml"
import { allKinds } from "../../../src/api/index.ts"
import { languageAgentCelFixtures } from "../../fixtures/cel/languageagent.ts"
import { languageClientCelFixtures } from "../../fixtures/cel/languageclient.ts"
import { languageClusterCelFixtures } from "../../fixtures/cel/languagecluster.ts"
import { languageModelCelFixtures } from "../../fixtures/cel/languagemodel.ts"
import { languagePersonaCelFixtures } from "../../fixtures/cel/languagepersona.ts"
import { languageToolCelFixtures } from "../../fixtures/cel/languagetool.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")

interface Fixture {
  readonly name: string
  readonly object: Record<string, unknown>
  readonly oldObject?: Record<string, unknown>
  readonly violations: ReadonlyArray<string>
}

const fixtures: ReadonlyArray<readonly [string, ReadonlyArray<Fixture>]> = [
  ["LanguageCluster", languageClusterCelFixtures],
  ["LanguageAgent", languageAgentCelFixtures],
  ["LanguageTool", languageToolCelFixtures],
  ["LanguageModel", languageModelCelFixtures],
  ["LanguagePersona", languagePersonaCelFixtures],
  ["LanguageClient", languageClientCelFixtures],
]

/** Give cluster-scoped fixture objects a unique name so repeated runs against one cluster do not collide. */
const placed = (
  object: Record<string, unknown>,
  namespace: string,
  suffix: string,
): Record<string, unknown> => {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>
  return object.kind === "LanguageCluster"
    ? { ...object, metadata: { ...metadata, name: `${String(metadata.name)}-${suffix}` } }
    : { ...object, metadata: { ...metadata, namespace } }
}

/**
 * CREATE cases go through server-side apply; UPDATE cases replace the stored old object whole (a PUT), so
 * "remove a field" means what the fixture says rather than SSA's ownership semantics.
 */
const submit = (verb: "create" | "apply" | "replace", object: Record<string, unknown>, dryRun: boolean) =>
  kubectl(
    [
      verb,
      ...(verb === "apply" ? ["--server-side", "--force-conflicts", "--field-manager=cel-fixture"] : []),
      "--validate=strict",
      ...(dryRun ? ["--dry-run=server"] : []),
      "-f",
      "-",
    ],
    { input: stringify(object) },
  )

describe("generated CRDs on a real kube-apiserver", () => {
  beforeAll(installCrds)

  test("all six kinds are served with their short names and the langop category", async () => {
    const resources = await kubectl(["api-resources", "--api-group=langop.io", "-o", "wide"])
    expect(resources.exitCode).toBe(0)
    for (const kind of allKinds) {
      const line = resources.stdout.split("\n").find((l) => l.startsWith(`${kind.plural} `))
      expect(line, kind.plural).toBeDefined()
      for (const short of kind.shortNames) expect(line).toContain(short)
      expect(line).toContain("langop")
    }
    const explain = await kubectl(["explain", "languagetools.spec.deploymentMode"])
    expect(explain.exitCode).toBe(0)
    expect(explain.stdout).toMatch(/sidecar/u)
  })

  test("every example passes server-side dry-run with strict field validation", async ({ namespace }) => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"))
    expect(files.length).toBeGreaterThanOrEqual(6)
    for (const file of files) {
      const result = await kubectl([
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        join(EXAMPLES, file),
      ])
      expect(result.stderr, file).toBe("")
      expect(result.exitCode, file).toBe(0)
    }
  })

  for (const [kind, list] of fixtures) {
    test(`${kind}: CEL fixtures are admitted or rejected with the rule's message`, async ({ namespace }) => {
      const suffix = uniqueName("x").slice(2)
      for (const fixture of list) {
        if (fixture.oldObject !== undefined) {
          const created = await submit("create", placed(fixture.oldObject, namespace, suffix), false)
          expect(created.stderr, `${fixture.name} (old object)`).toBe("")
        }
        const verb = fixture.oldObject === undefined ? "apply" : "replace"
        const result = await submit(verb, placed(fixture.object, namespace, suffix), true)
        if (fixture.violations.length === 0) {
          expect(result.stderr, fixture.name).toBe("")
          expect(result.exitCode, fixture.name).toBe(0)
        } else {
          expect(result.exitCode, fixture.name).not.toBe(0)
          for (const message of fixture.violations) expect(result.stderr, fixture.name).toContain(message)
        }
      }
      if (kind === "LanguageCluster") {
        const names = list.map(
          (f) => `languagecluster/${String((f.object.metadata as { name: string }).name)}-${suffix}`,
        )
        await kubectl(["delete", "--ignore-not-found", "--wait=false", ...new Set(names)])
      }
    })
  }
})
