// The operator's langop.io/ keys cannot be put on pod templates by users: every kind with
// podAnnotations/podLabels denies them through the operator's validating handler, naming each key.
import { describe, expect, it } from "vitest"
import { isOperatorKey } from "../../../src/webhook/forbidden-keys.ts"
import { admissions, withPodTemplateRules } from "../../../src/webhook/index.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"
import { denyLines, NS, reviewOf, validate } from "./kinds/support.ts"

const objects = {
  LanguageAgent: { image: "agent:1", modelRefs: [{ name: "gpt" }] },
  LanguageTool: { image: "ghcr.io/langop/mcp-web-fetch:1.0" },
  LanguageClient: { image: "client:1", modelRefs: [{ name: "gpt" }] },
} as const

const object = (kind: keyof typeof objects, extra: Record<string, unknown>) => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name: "x", namespace: NS },
  spec: { ...objects[kind], ...extra },
})

const kinds = Object.keys(objects) as Array<keyof typeof objects>

/** Each kind's validating handler as the operator serves it (kind rules plus the pod-template rules). */
const served = {
  LanguageAgent: (request: AdmissionRequest) =>
    validate(withPodTemplateRules(admissions.LanguageAgent), request),
  LanguageTool: (request: AdmissionRequest) =>
    validate(withPodTemplateRules(admissions.LanguageTool), request),
  LanguageClient: (request: AdmissionRequest) =>
    validate(withPodTemplateRules(admissions.LanguageClient), request),
}

describe("podAnnotations / podLabels: langop.io/ keys are the operator's", () => {
  it.each(kinds)("%s: each forged annotation and label is denied, naming the key", (kind) => {
    const { response } = served[kind](
      reviewOf(
        object(kind, {
          podAnnotations: {
            "langop.io/sidecar-tools": "team/sc",
            "langop.io/injected-tools": "team/sc",
            "prometheus.io/scrape": "true",
          },
          podLabels: { "langop.io/kind": "LanguageAgent", "langop.io/group": "crawlers", team: "a" },
        }),
      ),
    )
    expect(response.allowed).toBe(false)
    expect(denyLines(response)).toEqual([
      'spec.podAnnotations[langop.io/injected-tools]: annotation "langop.io/injected-tools" is reserved for the operator (langop.io/ keys on Pods are the operator\'s marks, e.g. which sidecar tools to inject); remove it',
      'spec.podAnnotations[langop.io/sidecar-tools]: annotation "langop.io/sidecar-tools" is reserved for the operator (langop.io/ keys on Pods are the operator\'s marks, e.g. which sidecar tools to inject); remove it',
      'spec.podLabels[langop.io/kind]: label "langop.io/kind" is reserved for the operator (only langop.io/group may be set by users); remove it',
    ])
  })

  it.each(kinds)("%s: other keys and the users' langop.io/group label are admitted", (kind) => {
    const { response } = served[kind](
      reviewOf(
        object(kind, {
          podAnnotations: { "prometheus.io/scrape": "true", "example.com/langop.io": "x" },
          podLabels: { "langop.io/group": "crawlers", team: "a" },
        }),
      ),
    )
    expect(denyLines(response)).toEqual([])
  })

  it("an unchanged spec on UPDATE is not re-validated (objects stored before the rule can still be finalised)", () => {
    const stored = object("LanguageAgent", { podAnnotations: { "langop.io/sidecar-tools": "team/sc" } })
    const { response } = served.LanguageAgent(
      reviewOf(
        { ...stored, metadata: { ...stored.metadata, finalizers: ["langop.io/finalizer"] } },
        {
          operation: "UPDATE",
          oldObject: stored,
        },
      ),
    )
    expect(response.allowed).toBe(true)
  })

  it.each([
    ["langop.io/sidecar-tools", true],
    ["LANGOP.IO/x", true],
    ["sub.langop.io/x", true],
    ["langop.io", false],
    ["notlangop.io/x", false],
    ["example.com/langop.io", false],
  ])("isOperatorKey(%j) = %j", (key, expected) => {
    expect(isOperatorKey(key)).toBe(expected)
  })
})
