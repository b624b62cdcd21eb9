// A dynamic volume provisioner for the local control plane, so that it behaves like a real cluster
// (kind ships rancher's local-path provisioner): a default StorageClass whose claims bind by themselves.
//
// Guarantees, while the cluster's scope is open:
// - StorageClass `standard` exists and is the default (`storageclass.kubernetes.io/is-default-class`),
//   with `volumeBindingMode: Immediate` (kwok nodes run nothing, so waiting for a consumer gains nothing);
// - every PersistentVolumeClaim of that class with no volume gets a PersistentVolume `pvc-<claim uid>`
//   (hostPath under the run dir; never mounted, kwok only pretends to run pods) with the claim's access
//   modes, volume mode and requested size, pre-bound to the claim; kube-controller-manager's
//   PV controller then binds both, as with any external provisioner;
// - a released volume of ours (reclaim policy Delete) is deleted, as a provisioner must do;
// - claims of any other class (or `storageClassName: ""`) are left alone: they stay Pending until
//   someone provides a volume, as on a real cluster without a provisioner for that class.
// Level-triggered: every change of a claim or volume runs one pass over the whole (small) state, and
// a pass that finds nothing to do writes nothing.
import { join } from "node:path"
import { Effect, Queue, Schedule, type Scope } from "effect"
import type { KubeClientShape } from "../kube/client.ts"
import type { KubeObject } from "../kube/objects.ts"
import { resource } from "../kube/resources.ts"
import { makeInformer } from "../runtime/informer.ts"

export const DEFAULT_STORAGE_CLASS = "standard"
export const PROVISIONER_NAME = "langop.io/local-hostpath"

const StorageClass = resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", false)
const PersistentVolume = resource("", "v1", "PersistentVolume", "persistentvolumes", false)
const PersistentVolumeClaim = resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true)

/** The annotation external provisioners set on the volumes they create. */
const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"

interface Claim extends KubeObject {
  readonly spec?: {
    readonly storageClassName?: string
    readonly volumeName?: string
    readonly accessModes?: ReadonlyArray<string>
    readonly volumeMode?: string
    readonly resources?: { readonly requests?: { readonly storage?: string } }
  }
  readonly status?: { readonly phase?: string }
}

interface Volume extends KubeObject {
  readonly spec?: { readonly persistentVolumeReclaimPolicy?: string }
  readonly status?: { readonly phase?: string }
}

export const storageClassObject = (): KubeObject => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: {
    name: DEFAULT_STORAGE_CLASS,
    annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
  },
  provisioner: PROVISIONER_NAME,
  reclaimPolicy: "Delete",
  volumeBindingMode: "Immediate",
  allowVolumeExpansion: true,
})

/** True for a claim this provisioner must serve now. */
export const wantsVolume = (c: Claim): boolean =>
  c.metadata.deletionTimestamp === undefined &&
  c.spec?.storageClassName === DEFAULT_STORAGE_CLASS &&
  (c.spec.volumeName === undefined || c.spec.volumeName === "") &&
  c.metadata.uid !== undefined

export const volumeName = (c: Claim): string => `pvc-${c.metadata.uid ?? ""}`

/** The volume for a claim (pure). */
export const volumeFor = (c: Claim, volumesDir: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: volumeName(c), annotations: { [PROVISIONED_BY]: PROVISIONER_NAME } },
  spec: {
    capacity: { storage: c.spec?.resources?.requests?.storage ?? "1Gi" },
    accessModes: c.spec?.accessModes ?? ["ReadWriteOnce"],
    ...(c.spec?.volumeMode !== undefined ? { volumeMode: c.spec.volumeMode } : {}),
    persistentVolumeReclaimPolicy: "Delete",
    storageClassName: DEFAULT_STORAGE_CLASS,
    claimRef: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      namespace: c.metadata.namespace ?? "",
      name: c.metadata.name ?? "",
      uid: c.metadata.uid ?? "",
    },
    hostPath: {
      path: join(
        volumesDir,
        `${c.metadata.namespace ?? ""}_${c.metadata.name ?? ""}_${c.metadata.uid ?? ""}`,
      ),
      type: "DirectoryOrCreate",
    },
  },
})

/** True for a volume of ours whose claim is gone. */
export const releasedVolume = (v: Volume): boolean =>
  v.metadata.annotations?.[PROVISIONED_BY] === PROVISIONER_NAME &&
  v.spec?.persistentVolumeReclaimPolicy === "Delete" &&
  (v.status?.phase === "Released" || v.status?.phase === "Failed") &&
  v.metadata.deletionTimestamp === undefined

/**
 * Creates the default StorageClass and runs the provisioner in the current scope (until it closes).
 * A failed pass is retried at the next change or after a second, whichever comes first.
 */
export const runProvisioner = (
  client: KubeClientShape,
  volumesDir: string,
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    yield* client.create(StorageClass, storageClassObject()).pipe(
      Effect.catchTag("AlreadyExists", () => Effect.void),
      Effect.retry(Schedule.spaced("1 second").pipe(Schedule.upTo({ times: 30 }))),
      Effect.orDie,
    )
    const claims = yield* makeInformer<Claim>(client, { resource: PersistentVolumeClaim })
    const volumes = yield* makeInformer<Volume>(client, { resource: PersistentVolume })
    const kicks = yield* Queue.sliding<void>(1)
    const kick = () => void Queue.offerUnsafe(kicks, undefined)
    claims.subscribe(kick)
    volumes.subscribe(kick)
    yield* Effect.forkScoped(claims.run)
    yield* Effect.forkScoped(volumes.run)
    yield* claims.waitForSync
    yield* volumes.waitForSync

    const pass = Effect.gen(function* () {
      for (const c of claims.cache.list()) {
        if (!wantsVolume(c) || volumes.cache.get(volumeName(c)) !== undefined) continue
        yield* client
          .create(PersistentVolume, volumeFor(c, volumesDir))
          .pipe(Effect.catchTag("AlreadyExists", () => Effect.void))
      }
      for (const v of volumes.cache.list()) {
        if (!releasedVolume(v)) continue
        yield* client
          .delete(PersistentVolume, { name: v.metadata.name ?? "" })
          .pipe(Effect.catchTag("NotFound", () => Effect.void))
      }
    })
    const loop = Effect.gen(function* () {
      for (;;) {
        yield* Queue.take(kicks).pipe(Effect.timeoutOption("1 second"))
        yield* pass.pipe(
          Effect.catch((e) =>
            Effect.logWarning("local volume provisioner: pass failed", { error: e.message }),
          ),
        )
      }
    })
    kick()
    yield* Effect.forkScoped(loop)
  })
