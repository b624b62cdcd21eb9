import { describe, expect, it } from "vitest"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { podOwnerOf } from "../../../../src/runtime/sources.ts"

const pod = (labels: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-fetch-7d9c-abcde", namespace: "team-a", labels },
})

describe("podOwnerOf: a generated workload's Pod → the object that owns the workload", () => {
  const toolOfPod = podOwnerOf("LanguageTool")

  it("maps a Pod with the common labels to its owner's key", () => {
    expect(
      toolOfPod(pod({ "langop.io/kind": "LanguageTool", "app.kubernetes.io/name": "web-fetch" })),
    ).toEqual(["team-a/web-fetch"])
  })

  it("ignores Pods of another kind and Pods without a name label", () => {
    expect(toolOfPod(pod({ "langop.io/kind": "LanguageModel", "app.kubernetes.io/name": "gpt" }))).toEqual([])
    expect(toolOfPod(pod({ "langop.io/kind": "LanguageTool" }))).toEqual([])
    expect(toolOfPod(pod({}))).toEqual([])
  })
})
