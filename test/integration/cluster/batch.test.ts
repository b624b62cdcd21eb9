// Jobs complete on the fake node (kwok's pod-complete stage), including Jobs made from a CronJob.
import { BatchV1Api, CoreV1Api } from "@kubernetes/client-node"
import { describe, expect, vi } from "vitest"
import { kubectl, clusterTest as test } from "../setup/context.ts"

const poll = { timeout: 120_000, interval: 500 } as const

describe("batch", () => {
  test("a Job created from a CronJob's template runs to completion", async ({ kc, namespace }) => {
    const batch = kc.makeApiClient(BatchV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await batch.createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: "nightly" },
        spec: {
          // Far from now: only the manual trigger below creates a Job during the test.
          schedule: "0 3 1 1 *",
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { labels: { app: "nightly" } },
                spec: { restartPolicy: "Never", containers: [{ name: "task", image: "x.invalid/task:1" }] },
              },
            },
          },
        },
      },
    })

    // What `kubectl create job --from=cronjob/nightly` does: a Job from the template, owned by the CronJob.
    const created = await kubectl([
      "create",
      "job",
      "nightly-manual",
      "--from=cronjob/nightly",
      "-n",
      namespace,
    ])
    expect(created.stderr).toBe("")
    expect(created.exitCode).toBe(0)

    const job = await vi.waitFor(async () => {
      const j = await batch.readNamespacedJob({ name: "nightly-manual", namespace })
      expect(j.status?.succeeded).toBe(1)
      expect(j.status?.conditions?.find((c) => c.type === "Complete")?.status).toBe("True")
      return j
    }, poll)
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "nightly" })
    expect(job.metadata?.annotations?.["cronjob.kubernetes.io/instantiate"]).toBe("manual")

    const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=nightly" })
    expect(pods.items).toHaveLength(1)
    expect(pods.items[0]?.status?.phase).toBe("Succeeded")
  })
})
