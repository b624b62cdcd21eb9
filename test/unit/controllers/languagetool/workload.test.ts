import { describe, expect, it } from "vitest"
import { workloadState } from "../../../../src/controllers/languagetool/workload.ts"
import { deploymentWith } from "./fixtures.ts"

const pod = (name: string, reason: string, deleting = false) => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: "2025-01-01T00:00:00Z" } : {}) },
  status: { containerStatuses: [{ name: "tool", state: { waiting: { reason, message: "details" } } }] },
})

describe("LanguageTool status from the Deployment and Pods (docs/languagetool.md §Status)", () => {
  it.each([
    ["missing Deployment", undefined, [], false, "Pending", "DeploymentNotFound"],
    ["replicas 0 without HPA", deploymentWith(0, {}), [], false, "Pending", "ScaledToZero"],
    ["replicas 0 with HPA is not 'scaled to zero'", deploymentWith(0, {}), [], true, "Pending", "Pending"],
    [
      "first start, nothing ready yet",
      deploymentWith(2, { ready: 0, unavailable: 2 }),
      [],
      false,
      "Pending",
      "Pending",
    ],
    ["ready", deploymentWith(2, { ready: 2 }), [], false, "Running", "ReconcileSuccess"],
    [
      "partly ready",
      deploymentWith(2, { ready: 1, unavailable: 1 }),
      [],
      false,
      "Running",
      "ReconcileSuccess",
    ],
    ["rolling out", deploymentWith(2, { ready: 2, updated: 1 }), [], false, "Updating", "Updating"],
    [
      "new spec not yet observed by the deployment controller",
      deploymentWith(2, { ready: 2, generation: 3, observedGeneration: 2 }),
      [],
      false,
      "Updating",
      "Updating",
    ],
    [
      "progress deadline exceeded",
      deploymentWith(1, {
        conditions: [
          { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "too slow" },
        ],
      }),
      [],
      false,
      "Failed",
      "PodsNotReady",
    ],
    [
      "crash looping pod",
      deploymentWith(1, {}),
      [pod("p1", "CrashLoopBackOff")],
      false,
      "Failed",
      "PodsNotReady",
    ],
    [
      "image pull back-off",
      deploymentWith(1, {}),
      [pod("p1", "ImagePullBackOff")],
      false,
      "Failed",
      "PodsNotReady",
    ],
    [
      "bad config",
      deploymentWith(1, {}),
      [pod("p1", "CreateContainerConfigError")],
      false,
      "Failed",
      "PodsNotReady",
    ],
    [
      "ContainerCreating is normal",
      deploymentWith(1, {}),
      [pod("p1", "ContainerCreating")],
      false,
      "Pending",
      "Pending",
    ],
    [
      "a terminating pod's failure does not count",
      deploymentWith(1, {}),
      [pod("p1", "ErrImagePull", true)],
      false,
      "Pending",
      "Pending",
    ],
    [
      "a rollout stuck on a bad image while old pods serve",
      deploymentWith(2, { ready: 2, updated: 1 }),
      [pod("p9", "ImagePullBackOff")],
      false,
      "Updating",
      "Updating",
    ],
  ] as const)("%s → %s/%s", (_what, deployment, pods, hpa, phase, reason) => {
    const state = workloadState(deployment, pods, hpa)
    expect(state.phase).toBe(phase)
    expect(state.reason).toBe(reason)
  })

  it("names the failing pod and its reason", () => {
    const state = workloadState(deploymentWith(1, {}), [pod("web-fetch-abc", "CrashLoopBackOff")], false)
    expect(state.message).toBe("Pod web-fetch-abc container tool: CrashLoopBackOff (details)")
  })
})
