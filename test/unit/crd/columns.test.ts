import { describe, expect, it } from "vitest"
import { allKinds } from "../../../src/api/index.ts"
import { crdFor } from "../../../src/crd/generate.ts"

describe("kubectl get columns and names", () => {
  it.each(allKinds.map((k) => [k.kind, k] as const))(
    "%s shows READY from the Ready condition first",
    (_kind, k) => {
      expect(crdFor(k).spec.versions[0]?.additionalPrinterColumns[0]).toEqual({
        name: "Ready",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      })
    },
  )

  it("LanguageCluster names its namespace column for what it is (kubectl get -A adds its own NAMESPACE)", () => {
    const cluster = allKinds.find((k) => k.kind === "LanguageCluster")
    if (cluster === undefined) throw new Error("no LanguageCluster")
    const crd = crdFor(cluster)
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Ready",
      "Phase",
      "Managed Namespace",
      "Age",
    ])
    expect(crd.spec.names.shortNames).toEqual(["lcluster"])
  })

  it("short names are unique across the kinds", () => {
    const names = allKinds.flatMap((k) => [...k.shortNames])
    expect(new Set(names).size).toBe(names.length)
    expect(names).toHaveLength(allKinds.length)
  })
})
