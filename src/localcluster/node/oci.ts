// Writes container images as OCI image-layout tarballs (what `ctr images import` reads), from
// root-filesystem directories: no registry and no container engine needed.
//
// Guarantees:
// - one uncompressed layer per input directory, in order (a later layer overrides an earlier one's
//   files, as in any image); the layer tars are made by GNU tar with sorted names, mtime 0 and
//   numeric owners, so the same input gives the same digests (usable as a cache key);
// - every blob is stored under blobs/sha256/<its own sha256>; the config's diff_ids are the layer
//   digests (uncompressed layers), so containerd verifies them on unpack;
// - the index names the image twice: `io.containerd.image.name` (the full reference containerd
//   imports it as) and `org.opencontainers.image.ref.name` (the tag, as other OCI tools expect).
import { createHash } from "node:crypto"
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { Effect, Schema } from "effect"
import { runCommand } from "../command.ts"

export class ImageBuildError extends Schema.TaggedError<ImageBuildError>()("ImageBuildError", {
  image: Schema.String,
  message: Schema.String,
}) {}

/** The runtime part of an image config (OCI image spec, `config` object). */
export interface ImageRuntimeConfig {
  readonly entrypoint?: ReadonlyArray<string>
  readonly cmd?: ReadonlyArray<string>
  readonly env?: ReadonlyArray<string>
  /** "uid", "uid:gid" or a name from the image's /etc/passwd. */
  readonly user?: string
  readonly workingDir?: string
  readonly labels?: Readonly<Record<string, string>>
  /** e.g. "8080/tcp" */
  readonly exposedPorts?: ReadonlyArray<string>
}

export interface ImageSpec {
  /** A full or short reference, e.g. `langop/pause:dev` (normalised to `docker.io/langop/pause:dev`). */
  readonly reference: string
  /** Root filesystem directories, base first. */
  readonly layers: ReadonlyArray<string>
  readonly config: ImageRuntimeConfig
}

export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly annotations?: Readonly<Record<string, string>>
}

export const mediaTypes = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const

const referencePattern =
  /^(?:(?<domain>[a-z0-9.-]+(?::[0-9]+)?)\/)?(?<path>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/

/**
 * The fully qualified form of `reference` as containerd and the kubelet name images
 * (`langop/pause:dev` → `docker.io/langop/pause:dev`, `pause:dev` → `docker.io/library/pause:dev`).
 * A tag is required: images built here are never "latest" by accident.
 */
export const normalizeReference = (reference: string): string | undefined => {
  const m = referencePattern.exec(reference)
  if (m?.groups === undefined) return undefined
  const { domain, path, tag } = m.groups
  // Like Docker: a first component is a registry only if it has a dot or a port, or is localhost.
  const isRegistry =
    domain !== undefined && (domain.includes(".") || domain.includes(":") || domain === "localhost")
  if (domain !== undefined && isRegistry) return `${domain}/${path}:${tag}`
  const fullPath = domain !== undefined ? `${domain}/${path}` : (path ?? "")
  return `docker.io/${fullPath.includes("/") ? fullPath : `library/${fullPath}`}:${tag}`
}

export const digestOf = (content: string | Uint8Array): string =>
  `sha256:${createHash("sha256").update(content).digest("hex")}`

/** The image config JSON (OCI image spec), given the layer digests. Pure. */
export const imageConfigJson = (config: ImageRuntimeConfig, diffIds: ReadonlyArray<string>): string => {
  const runtime: Record<string, unknown> = {}
  if (config.user !== undefined) runtime.User = config.user
  if (config.exposedPorts !== undefined && config.exposedPorts.length > 0)
    runtime.ExposedPorts = Object.fromEntries(config.exposedPorts.map((p) => [p, {}]))
  runtime.Env = [...(config.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])]
  if (config.entrypoint !== undefined) runtime.Entrypoint = [...config.entrypoint]
  if (config.cmd !== undefined) runtime.Cmd = [...config.cmd]
  if (config.workingDir !== undefined) runtime.WorkingDir = config.workingDir
  if (config.labels !== undefined) runtime.Labels = { ...config.labels }
  return JSON.stringify({
    // A fixed date keeps the digest a function of the content alone.
    created: "1970-01-01T00:00:00Z",
    architecture: "amd64",
    os: "linux",
    config: runtime,
    rootfs: { type: "layers", diff_ids: [...diffIds] },
    history: diffIds.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "langop localcluster" })),
  })
}

/** The image manifest JSON. Pure. */
export const manifestJson = (config: Descriptor, layers: ReadonlyArray<Descriptor>): string =>
  JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.manifest, config, layers })

/** The layout's index.json, naming the one manifest. Pure. */
export const indexJson = (manifest: Descriptor, normalizedReference: string): string => {
  const tag = normalizedReference.slice(normalizedReference.lastIndexOf(":") + 1)
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.index,
    manifests: [
      {
        ...manifest,
        annotations: {
          "io.containerd.image.name": normalizedReference,
          "org.opencontainers.image.ref.name": tag,
        },
      },
    ],
  })
}

const sha256File = (path: string): Effect.Effect<string, Error> =>
  Effect.callback<string, Error>((resume) => {
    const hash = createHash("sha256")
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", (e) => resume(Effect.fail(e)))
      .on("end", () => resume(Effect.succeed(`sha256:${hash.digest("hex")}`)))
  })

// Reproducible tar flags (GNU tar): content order, times and owner names do not leak into digests.
const reproducible = [
  "--sort=name",
  "--mtime=@0",
  "--numeric-owner",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
]

/**
 * Writes the image as an OCI layout tarball at `outPath` (replaced atomically) and returns the
 * normalised reference and the manifest digest.
 */
export const writeOciArchive = (
  spec: ImageSpec,
  outPath: string,
): Effect.Effect<{ readonly reference: string; readonly manifestDigest: string }, ImageBuildError> => {
  const fail = (message: string) => new ImageBuildError({ image: spec.reference, message })
  return Effect.gen(function* () {
    const reference = normalizeReference(spec.reference)
    if (reference === undefined)
      return yield* fail(`invalid image reference ${JSON.stringify(spec.reference)} (expected name:tag)`)
    if (spec.layers.length === 0) return yield* fail("an image needs at least one layer directory")
    for (const dir of spec.layers) {
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        return yield* fail(`layer directory ${dir} does not exist`)
    }
    mkdirSync(dirname(outPath), { recursive: true })
    const work = mkdtempSync(join(tmpdir(), "langop-oci-"))
    return yield* Effect.gen(function* () {
      const blobs = join(work, "layout", "blobs", "sha256")
      mkdirSync(blobs, { recursive: true })
      const tar = (args: ReadonlyArray<string>) =>
        runCommand("tar", args, { timeoutMs: 600_000 }).pipe(
          Effect.flatMap((r) =>
            r.exitCode === 0 ? Effect.void : Effect.fail(fail(`tar ${args.join(" ")}: ${r.stderr.trim()}`)),
          ),
        )
      const layers: Array<Descriptor> = []
      for (const [i, dir] of spec.layers.entries()) {
        const layerPath = join(work, `layer-${i}.tar`)
        yield* tar(["--create", `--file=${layerPath}`, `--directory=${dir}`, ...reproducible, "."])
        const digest = yield* sha256File(layerPath).pipe(Effect.mapError((e) => fail(e.message)))
        renameSync(layerPath, join(blobs, digest.slice("sha256:".length)))
        layers.push({
          mediaType: mediaTypes.layer,
          digest,
          size: statSync(join(blobs, digest.slice(7))).size,
        })
      }
      const blob = (mediaType: string, content: string): Descriptor => {
        const digest = digestOf(content)
        writeFileSync(join(blobs, digest.slice("sha256:".length)), content)
        return { mediaType, digest, size: Buffer.byteLength(content) }
      }
      const config = blob(
        mediaTypes.config,
        imageConfigJson(
          spec.config,
          layers.map((l) => l.digest),
        ),
      )
      const manifest = blob(mediaTypes.manifest, manifestJson(config, layers))
      writeFileSync(join(work, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }))
      writeFileSync(join(work, "layout", "index.json"), indexJson(manifest, reference))
      const tmpOut = `${outPath}.tmp`
      yield* tar([
        "--create",
        `--file=${tmpOut}`,
        `--directory=${join(work, "layout")}`,
        ...reproducible,
        "--owner=0",
        "--group=0",
        "oci-layout",
        "index.json",
        "blobs",
      ])
      renameSync(tmpOut, outPath)
      return { reference, manifestDigest: manifest.digest }
    }).pipe(Effect.ensuring(Effect.sync(() => rmSync(work, { recursive: true, force: true }))))
  })
}
