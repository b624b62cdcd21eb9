// The Helm chart generator and the kustomize subset it reads deploy/ with. That the chart renders what
// kustomize renders is checked with the real tools in test/integration/deploy/helm.test.ts.
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { ChartDir } from "../../../src/operator/helm-chart.ts"
import { kustomize, strategicMerge } from "../../../src/operator/kustomize.ts"
import { generatedManifests, readRepoFile } from "../../../src/operator/manifests.ts"

const files = (entries: Record<string, string>) => (path: string) => entries[path]

describe("kustomize subset", () => {
  it("merges lists by their strategic-merge key: merges a matching item, puts new ones first as kustomize does", () => {
    const target = { spec: { containers: [{ name: "a", env: [{ name: "X", value: "1" }] }] } }
    const patch = {
      spec: {
        containers: [
          {
            name: "a",
            env: [
              { name: "X", value: "2" },
              { name: "Y", value: "3" },
            ],
          },
        ],
      },
    }
    expect(strategicMerge(target, patch)).toEqual({
      spec: {
        containers: [
          {
            name: "a",
            env: [
              { name: "Y", value: "3" },
              { name: "X", value: "2" },
            ],
          },
        ],
      },
    })
    expect(() => strategicMerge({ args: ["a"] }, { args: ["b"] })).toThrow(
      /no merge key known for list "args"/u,
    )
  })

  it("renders resources, components and patches, reading YAML as Kubernetes does (0440 is octal)", () => {
    const read = files({
      "k/kustomization.yaml": "resources: [d.yaml]\ncomponents: [c]\n",
      "k/d.yaml": "kind: Deployment\nmetadata: {name: d}\nspec: {mode: 0440}\n",
      "k/c/kustomization.yaml": "kind: Component\nresources: [s.yaml]\npatches: [{path: p.yaml}]\n",
      "k/c/s.yaml": "kind: Service\nmetadata: {name: s}\n",
      "k/c/p.yaml": "kind: Deployment\nmetadata: {name: d}\nspec: {replicas: 2}\n",
    })
    expect(kustomize("k", read)).toEqual([
      { kind: "Deployment", metadata: { name: "d" }, spec: { mode: 288, replicas: 2 } },
      { kind: "Service", metadata: { name: "s" } },
    ])
  })

  it("refuses what it does not implement instead of rendering something else than kustomize", () => {
    expect(() =>
      kustomize("k", files({ "k/kustomization.yaml": "resources: []\nnamespace: other\n" })),
    ).toThrow(/field "namespace" is not supported/u)
    expect(() =>
      kustomize(
        "k",
        files({ "k/kustomization.yaml": "resources: []\npatches: [{patch: '[]', target: {kind: X}}]\n" }),
      ),
    ).toThrow(/only `patches: \[\{path\}\]`/u)
  })
})

describe("the generated chart", () => {
  const chart = new Map(
    [...generatedManifests(readRepoFile)].filter(([path]) => path.startsWith(`${ChartDir}/`)),
  )

  it("takes its defaults from the kustomize install's Deployment", () => {
    const values = parse(chart.get(`${ChartDir}/values.yaml`) ?? "") as Record<string, unknown>
    const deployment = parse(readRepoFile("deploy/base/deployment.yaml")?.split("\n---\n")[0] ?? "") as {
      spec: { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } }
    }
    const container = deployment.spec.template.spec.containers[0] ?? {}
    expect(values).toEqual({
      namespace: { name: "langop-system", create: true },
      image: {
        repository: String(container.image).split(":")[0],
        tag: String(container.image).split(":")[1],
        pullPolicy: container.imagePullPolicy,
      },
      replicas: deployment.spec.replicas,
      resources: container.resources,
      certificates: { source: "cert-manager" },
    })
  })

  it("names the operator namespace only through the value in every template", () => {
    const templates = [...chart].filter(([path]) => path.includes("/templates/"))
    expect(templates.length).toBeGreaterThanOrEqual(4)
    for (const [path, text] of templates) expect(text, path).not.toContain("langop-system")
  })

  it("renders each certificate variant only for its value of certificates.source", () => {
    expect(chart.get(`${ChartDir}/templates/certificates-self.yaml`)).toContain(
      '{{- if eq .Values.certificates.source "self" }}',
    )
    expect(chart.get(`${ChartDir}/templates/certificates-cert-manager.yaml`)).toMatch(
      /\{\{- if eq \.Values\.certificates\.source "cert-manager" \}\}[\s\S]*kind: Certificate/u,
    )
    const schema = JSON.parse(chart.get(`${ChartDir}/values.schema.json`) ?? "{}") as {
      properties: { certificates: { properties: { source: { enum: Array<string> } } } }
    }
    expect(schema.properties.certificates.properties.source.enum).toEqual(["cert-manager", "self"])
  })
})
