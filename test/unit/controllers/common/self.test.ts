import { describe, expect, it } from "vitest"
import { addressOf, referenceTo } from "../../../../src/controllers/common/self.ts"
import { Langop } from "../../../../src/kube/resources.ts"

describe("the reconciled object's address and Event reference", () => {
  const agent = { metadata: { name: "support", namespace: "team-a", uid: "u-1" } }
  const cluster = { metadata: { name: "prod", uid: "u-2" } }

  it("addresses a namespaced object by name and namespace, a cluster-scoped one by name only", () => {
    expect(addressOf(agent)).toEqual({ name: "support", namespace: "team-a" })
    expect(addressOf(cluster)).toEqual({ name: "prod" })
  })

  it("refers to the object with its group version, kind and uid", () => {
    expect(referenceTo(Langop.LanguageAgent, agent)).toEqual({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      name: "support",
      namespace: "team-a",
      uid: "u-1",
    })
    expect(referenceTo(Langop.LanguageCluster, cluster)).toMatchObject({
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageCluster",
      name: "prod",
      uid: "u-2",
    })
    expect(referenceTo(Langop.LanguageCluster, cluster).namespace).toBeUndefined()
  })
})
