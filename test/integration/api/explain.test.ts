/**
 * `kubectl explain` on the real API server shows the descriptions written in src/api/ for every field:
 * the OpenAPI v3 document the server publishes for our group (what kubectl explain renders) carries each
 * description of every CRD schema, and samples of `kubectl explain` output show them to a user, including
 * an embedded Kubernetes type whose upstream description was shortened to its first sentence.
 */
import { beforeAll, describe, expect, vi } from "vitest"
import { allKinds } from "../../../src/api/index.ts"
import { GROUP, VERSION } from "../../../src/api/shared.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { kubectl, clusterTest as test, uniqueName } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"

type Schema = {
  description?: string
  properties?: Record<string, Schema>
  items?: Schema
  additionalProperties?: Schema | boolean
}

/** Every `path → description` of a schema. */
const descriptions = (s: Schema, path: string, into: Map<string, string>): Map<string, string> => {
  if (s.description !== undefined) into.set(path, s.description)
  for (const [k, v] of Object.entries(s.properties ?? {})) descriptions(v, `${path}.${k}`, into)
  if (s.items !== undefined) descriptions(s.items, `${path}[]`, into)
  if (typeof s.additionalProperties === "object") descriptions(s.additionalProperties, `${path}{}`, into)
  return into
}

const oneLine = (text: string) => text.replace(/\s+/gu, " ").trim()

const explain = async (field: string) => {
  let out = ""
  // The API server publishes a new CRD's OpenAPI a moment after it is Established.
  await vi.waitFor(
    async () => {
      const r = await kubectl(["explain", field, `--api-version=${GROUP}/${VERSION}`])
      expect(r.exitCode, r.stderr).toBe(0)
      out = r.stdout
    },
    { timeout: 60_000, interval: 1_000 },
  )
  return oneLine(out)
}

const description = (kind: string, path: string): string => {
  const definition = allKinds.find((k) => k.kind === kind)
  if (definition === undefined) throw new Error(kind)
  const schema = crdFor(definition).spec.versions[0]?.schema.openAPIV3Schema as Schema
  const text = descriptions(schema, kind, new Map()).get(`${kind}.${path}`)
  if (text === undefined) throw new Error(`${kind}.${path} has no description`)
  return oneLine(text)
}

beforeAll(installCrds)

describe("kubectl explain", () => {
  test("the published OpenAPI carries every description of every CRD", async () => {
    let published: { components: { schemas: Record<string, Schema> } } = { components: { schemas: {} } }
    await vi.waitFor(
      async () => {
        const r = await kubectl(["get", "--raw", `/openapi/v3/apis/${GROUP}/${VERSION}`])
        expect(r.exitCode, r.stderr).toBe(0)
        published = JSON.parse(r.stdout) as typeof published
        for (const k of allKinds)
          expect(Object.keys(published.components.schemas)).toContain(`io.langop.${VERSION}.${k.kind}`)
      },
      { timeout: 60_000, interval: 1_000 },
    )
    let checked = 0
    for (const k of allKinds) {
      const ours = descriptions(
        crdFor(k).spec.versions[0]?.schema.openAPIV3Schema as Schema,
        k.kind,
        new Map(),
      )
      const served = descriptions(
        published.components.schemas[`io.langop.${VERSION}.${k.kind}`] ?? {},
        k.kind,
        new Map(),
      )
      for (const [path, text] of ours) {
        // The API server publishes its own text for the fields every object has.
        if (/^\w+\.(metadata|apiVersion|kind)\b/u.test(path)) continue
        expect(served.get(path), path).toBe(text)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(500)
  })

  test("a LanguageAgent field shows its description", async () => {
    const out = await explain("languageagent.spec.modelRefs")
    expect(out).toContain(
      description("LanguageAgent", "spec.properties.modelRefs".replace(".properties", "")),
    )
    expect(out).toMatch(/FIELDS: .*name\s+<string>/u)
  })

  test("a LanguageClient field shows its description", async () => {
    const out = await explain("languageclient.spec.sessionConfig.backend")
    expect(out).toContain(description("LanguageClient", "spec.sessionConfig.backend"))
  })

  test("an embedded Kubernetes field stays explainable, with upstream's first sentence", async () => {
    const out = await explain(
      "languageclient.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.matchExpressions",
    )
    expect(out).toContain("FIELDS:")
    expect(out).toMatch(/key\s+<string> -required-/u)
    expect(out).toContain("The label key that the selector applies to.")
    // Only the first sentence: upstream's longer text is gone from the CRD.
    expect(out).not.toContain("Valid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt.")
  })

  test("LanguageCluster: short name lcluster (no other resource has it), READY and MANAGED NAMESPACE columns", async () => {
    const resources = await kubectl(["api-resources", "--no-headers"])
    expect(resources.exitCode, resources.stderr).toBe(0)
    const owners = resources.stdout.split("\n").filter((l) => l.split(/\s+/u).includes("lcluster"))
    expect(owners).toEqual([expect.stringMatching(/^languageclusters\s+lcluster\s+langop\.io\/v1alpha1\s/u)])

    const name = uniqueName("columns")
    const created = await kubectl(["create", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "LanguageCluster",
        metadata: { name },
      }),
    })
    expect(created.exitCode, created.stderr).toBe(0)
    try {
      const listed = await kubectl(["get", "lcluster", name])
      expect(listed.exitCode, listed.stderr).toBe(0)
      // One NAMESPACE-like header only, named for what it is.
      expect(listed.stdout.split("\n")[0]?.split(/\s{2,}/u)).toEqual([
        "NAME",
        "READY",
        "PHASE",
        "MANAGED NAMESPACE",
        "AGE",
      ])
    } finally {
      await kubectl(["delete", "lcluster", name, "--ignore-not-found"])
    }
  })
})
