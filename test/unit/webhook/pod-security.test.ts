// Pod security at admission: a value the restricted standard forbids follows the namespace's own Pod
// Security level — denied where that level forbids it, admitted with a warning otherwise.
import { describe, expect, it } from "vitest"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { admissions, withPodTemplateRules } from "../../../src/webhook/index.ts"
import { makeLookupFromObjects } from "../../../src/webhook/lookup.ts"
import { enforcedLevel, specRelaxations } from "../../../src/webhook/pod-security.ts"
import type { AdmissionRequest } from "../../../src/webhook/review.ts"
import { denyLines, failingLookup, type Json, reviewOf, validate, world } from "./kinds/support.ts"
import { outcomeAt, type PodSecurityKind, relaxationTable } from "./pod-security-table.ts"

const namespace = (name: string, level?: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: {
    name,
    ...(level === undefined ? {} : { labels: { "pod-security.kubernetes.io/enforce": level } }),
  },
})

const LEVELS = {
  restricted: namespace("team", "restricted"),
  baseline: namespace("team", "baseline"),
  privileged: namespace("team", "privileged"),
  unlabelled: namespace("team"),
} as const
type Level = keyof typeof LEVELS

const served = {
  LanguageAgent: (request: AdmissionRequest, objects: ReadonlyArray<KubeObject>) =>
    validate(withPodTemplateRules(admissions.LanguageAgent), request, makeLookupFromObjects(objects)),
  LanguageTool: (request: AdmissionRequest, objects: ReadonlyArray<KubeObject>) =>
    validate(withPodTemplateRules(admissions.LanguageTool), request, makeLookupFromObjects(objects)),
  LanguageClient: (request: AdmissionRequest, objects: ReadonlyArray<KubeObject>) =>
    validate(withPodTemplateRules(admissions.LanguageClient), request, makeLookupFromObjects(objects)),
}
type Kind = PodSecurityKind

const base: Record<Kind, Json> = {
  LanguageAgent: { image: "agent:1", modelRefs: [{ name: "gpt" }] },
  LanguageTool: { image: "ghcr.io/langop/mcp-web-fetch:1.0" },
  LanguageClient: { image: "client:1", modelRefs: [{ name: "gpt" }] },
}

const object = (kind: Kind, spec: Json) => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name: "x", namespace: "team" },
  spec: { ...base[kind], ...spec },
})

const expectedOutcome = (level: Level, from: "baseline" | "restricted") => outcomeAt(level, from)

describe("restricted-forbidden fields × the namespace's Pod Security level", () => {
  const rows = relaxationTable.flatMap((row) =>
    (Object.keys(LEVELS) as Array<Level>).map((level) => ({
      ...row,
      level,
      outcome: expectedOutcome(level, row.from),
    })),
  )
  it.each(rows)("$kind $path in a $level namespace: $outcome", ({ kind, spec, path, level, outcome }) => {
    const { response } = served[kind](reviewOf(object(kind, spec)), [...world, LEVELS[level]])
    if (outcome === "denied") {
      expect(response.allowed).toBe(false)
      expect(denyLines(response)).toHaveLength(1)
      expect(denyLines(response)[0]).toMatch(
        new RegExp(`^${path.replace(/[[\].]/gu, "\\$&")}: .* is forbidden by the`, "u"),
      )
    } else {
      expect(response.allowed).toBe(true)
      expect(response.warnings?.filter((w) => w.startsWith(`${path}: `))).toHaveLength(1)
    }
  })

  it("the exact messages a kubectl user reads", () => {
    const agent = object("LanguageAgent", {
      securityContext: { runAsUser: 0, seccompProfile: { type: "Unconfined" } },
    })
    const baseline = served.LanguageAgent(reviewOf(agent), [...world, LEVELS.baseline]).response
    expect(denyLines(baseline)).toEqual([
      'spec.securityContext.seccompProfile.type: seccompProfile.type: Unconfined is forbidden by the baseline Pod Security Standard (Seccomp) and namespace "team" enforces "baseline" (pod-security.kubernetes.io/enforce), so the API server would refuse the Pods; remove it or relax the namespace\'s level',
    ])
    expect(baseline.warnings).toContain(
      'spec.securityContext.runAsUser: runAsUser: 0 relaxes the restricted Pod Security Standard (Running as Non-root user); passed to the Pods unchanged because namespace "team" enforces "baseline" (pod-security.kubernetes.io/enforce)',
    )
    const unlabelled = served.LanguageAgent(reviewOf(agent), [...world, LEVELS.unlabelled]).response
    expect(unlabelled.allowed).toBe(true)
    expect(unlabelled.warnings).toContain(
      'spec.securityContext.runAsUser: runAsUser: 0 relaxes the restricted Pod Security Standard (Running as Non-root user); passed to the Pods unchanged because namespace "team" has no pod-security.kubernetes.io/enforce label (Kubernetes\' default: privileged)',
    )
  })

  it("values within the restricted standard look nothing up and find nothing", () => {
    const tool = object("LanguageTool", {
      securityContext: {
        runAsUser: 1000,
        runAsNonRoot: true,
        fsGroup: 2000,
        seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
      },
      volumes: [
        { name: "cache", emptyDir: {} },
        { name: "creds", secret: { secretName: "s" } },
      ],
    })
    const { response } = validate(
      withPodTemplateRules(admissions.LanguageTool),
      reviewOf(tool),
      failingLookup,
    )
    expect(response).toEqual({ uid: reviewOf(tool).uid, allowed: true })
    expect(specRelaxations(tool.spec)).toEqual([])
  })

  it("a namespace that cannot be read: the relaxation is admitted with a warning saying who decides", () => {
    const agent = object("LanguageAgent", { securityContext: { runAsUser: 0 } })
    const { response } = validate(
      withPodTemplateRules(admissions.LanguageAgent),
      reviewOf(agent),
      failingLookup,
    )
    expect(response.allowed).toBe(true)
    expect(response.warnings).toContain(
      'spec.securityContext.runAsUser: runAsUser: 0 relaxes the restricted Pod Security Standard (Running as Non-root user); namespace "team" could not be read (timeout), so the API server\'s Pod Security admission decides when the Pods are created',
    )
  })

  it("a sidecar tool's pod-only fields are reported, not dropped unseen", () => {
    const tool = object("LanguageTool", {
      deploymentMode: "sidecar",
      securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [] },
    })
    const { response } = validate(
      withPodTemplateRules(admissions.LanguageTool),
      reviewOf(tool),
      failingLookup,
    )
    expect(response.allowed).toBe(true)
    expect(response.warnings).toEqual([
      "spec.securityContext.fsGroup: has no effect on a sidecar tool: the sidecar runs in the agent's Pod, whose pod-level securityContext is the LanguageAgent's; set it there",
      "spec.securityContext.sysctls: has no effect on a sidecar tool: the sidecar runs in the agent's Pod, whose pod-level securityContext is the LanguageAgent's; set it there",
    ])
  })

  it.each([
    [undefined, "privileged"],
    ["privileged", "privileged"],
    ["baseline", "baseline"],
    ["restricted", "restricted"],
    ["Baseline", "restricted"],
    ["strict", "restricted"],
  ])("enforce label %j counts as %s", (label, level) => {
    expect(enforcedLevel(namespace("n", label)).level).toBe(level)
  })
})
