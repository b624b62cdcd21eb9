/**
 * The ConfigMaps and Secrets a container reads through `env` (`valueFrom.configMapKeyRef` /
 * `secretKeyRef`) and `envFrom`, for the kinds whose pods take the user's env verbatim (tools, clients).
 *
 * Why: a container reads these only when it starts, so a rotated Secret or edited ConfigMap reaches the
 * pods only through a rollout. Controllers therefore put the sources' resourceVersions into the pod
 * template's config hash, index their objects by these names, and watch both kinds through the indexes.
 *
 * Guarantees: names are de-duplicated and sorted; empty names are ignored; `hashEntries` is independent of
 * the order of its input and says `missing` for a source that does not exist (its creation rolls the
 * pods, as the container would otherwise start without it or not at all).
 */
import type { EnvFromSource, EnvVar } from "../../api/k8s/index.ts"
import type { KubeObject } from "../../kube/objects.ts"
import type { CacheReader } from "../../runtime/cache.ts"

export interface EnvReader {
  readonly spec: {
    readonly env?: ReadonlyArray<typeof EnvVar.Type> | undefined
    readonly envFrom?: ReadonlyArray<typeof EnvFromSource.Type> | undefined
  }
}

export interface EnvReferences {
  readonly configMaps: ReadonlyArray<string>
  readonly secrets: ReadonlyArray<string>
}

/** A ConfigMap or Secret the container env reads, with its resourceVersion (undefined = missing). */
export interface EnvSourceVersion {
  readonly kind: "ConfigMap" | "Secret"
  readonly name: string
  readonly resourceVersion: string | undefined
}

/** Names of the ConfigMaps and Secrets that `env` / `envFrom` read. */
export const envReferences = (reader: EnvReader): EnvReferences => {
  const configMaps = new Set<string>()
  const secrets = new Set<string>()
  for (const e of reader.spec.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef?.name
    const secret = e.valueFrom?.secretKeyRef?.name
    if (cm !== undefined && cm !== "") configMaps.add(cm)
    if (secret !== undefined && secret !== "") secrets.add(secret)
  }
  for (const e of reader.spec.envFrom ?? []) {
    if (e.configMapRef?.name !== undefined && e.configMapRef.name !== "") configMaps.add(e.configMapRef.name)
    if (e.secretRef?.name !== undefined && e.secretRef.name !== "") secrets.add(e.secretRef.name)
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() }
}

/** Index function over an object's env sources of one kind: `namespace/name` of each. */
export const envIndex =
  (which: keyof EnvReferences) =>
  (obj: EnvReader & { readonly metadata: { readonly namespace?: string | undefined } }) =>
    envReferences(obj)[which].map((name) => `${obj.metadata.namespace ?? ""}/${name}`)

/** The referenced sources with the resourceVersions the caches hold (one namespace: env is local). */
export const envSourceVersions = (
  refs: EnvReferences,
  namespace: string,
  caches: { readonly configMaps: CacheReader<KubeObject>; readonly secrets: CacheReader<KubeObject> },
): ReadonlyArray<EnvSourceVersion> => [
  ...refs.configMaps.map((name) => ({
    kind: "ConfigMap" as const,
    name,
    resourceVersion: caches.configMaps.getByName(namespace, name)?.metadata.resourceVersion,
  })),
  ...refs.secrets.map((name) => ({
    kind: "Secret" as const,
    name,
    resourceVersion: caches.secrets.getByName(namespace, name)?.metadata.resourceVersion,
  })),
]

/** What the config hash records of the sources: `Kind/name@resourceVersion`, sorted. */
export const hashEntries = (sources: ReadonlyArray<EnvSourceVersion>): ReadonlyArray<string> =>
  [...sources]
    .sort((a, b) => (`${a.kind}/${a.name}` < `${b.kind}/${b.name}` ? -1 : 1))
    .map((s) => `${s.kind}/${s.name}@${s.resourceVersion ?? "missing"}`)
