/**
 * The shared schedule validator (src/domain/cron.ts) against the real thing: for every schedule of the
 * corpus a CronJob is created with `dryRun=All` on the local kube-apiserver, and the API server's
 * verdict must equal both the corpus's recorded verdict and the validator's. The webhook and the
 * LanguageAgent controller both use this validator, so an agent schedule they admit is one the API
 * server takes.
 */
import { Effect } from "effect"
import { describe, expect } from "vitest"
import { cronScheduleProblem } from "../../../src/domain/cron.ts"
import { KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { CRON_CORPUS } from "../../unit/domain/cron-corpus.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"

const cronJob = (namespace: string, schedule: string): KubeObject =>
  ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "schedule-probe", namespace },
    spec: {
      schedule,
      jobTemplate: {
        spec: {
          template: {
            spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox:1.36" }] },
          },
        },
      },
    },
  }) as unknown as KubeObject

describe("CronJob schedules: our validator and kube-apiserver agree", () => {
  test(`${CRON_CORPUS.length} schedules, each dry-run created as a CronJob`, async ({ namespace }) => {
    const verdicts = await Effect.runPromise(
      Effect.forEach(
        CRON_CORPUS,
        (c) =>
          Effect.gen(function* () {
            const kube = yield* KubeClient
            const served = yield* Effect.result(
              kube.create(Builtin.CronJob, cronJob(namespace, c.schedule), { dryRun: true }),
            )
            return {
              schedule: c.schedule,
              recorded: c.accepted,
              apiserver:
                served._tag === "Success"
                  ? "accepts"
                  : // Anything but a validation answer (422) would make the comparison meaningless.
                    served.failure._tag === "Invalid"
                    ? "rejects"
                    : `fails: ${served.failure._tag}`,
              validator: cronScheduleProblem(c.schedule) === undefined ? "accepts" : "rejects",
            }
          }),
        { concurrency: 8 },
      ).pipe(Effect.provide(layerFromFile(kubeconfigPath()))),
    )
    // Control: a plainly valid CronJob is accepted, so every refusal above is its schedule's.
    expect(verdicts.find((v) => v.schedule === "0 * * * *")?.apiserver).toBe("accepts")
    expect(verdicts.filter((v) => v.apiserver !== v.validator)).toEqual([])
    expect(verdicts.filter((v) => v.apiserver !== (v.recorded ? "accepts" : "rejects"))).toEqual([])
  })
})
