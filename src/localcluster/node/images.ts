// The images the real node needs before any registry would be asked: the pod sandbox (pause), the
// cluster DNS (CoreDNS) and a debug image with a shell and `nc`/`nslookup`/`httpd` (busybox) for
// connection checks with `kubectl exec`. Each is assembled from the node build's binaries into an
// OCI archive next to them (the build dir is immutable per build key, so it doubles as the cache)
// and imported into the node's containerd.
//
// To add an image (the operator, LiteLLM), add an entry to `nodeImages`: a reference, the layer
// directories to assemble and the runtime config.
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { type ImageBuildError, type ImageRuntimeConfig, writeOciArchive } from "./oci.ts"

export interface NodeBuild {
  /** The dir test/cluster/node/build.sh printed. */
  readonly dir: string
}

export const nodeBin = (b: NodeBuild, name: string): string => join(b.dir, "bin", name)

export interface NodeImage {
  /** Short reference, as Pods name it. */
  readonly reference: string
  /** Archive name below `<build>/images/` (the file also carries a hash of the definition). */
  readonly file: string
  /** Fills the (empty) root filesystem directory. */
  readonly populate: (rootfs: string, build: NodeBuild) => void
  readonly config: ImageRuntimeConfig
}

const etcFiles = (rootfs: string) => {
  mkdirSync(join(rootfs, "etc"), { recursive: true })
  writeFileSync(
    join(rootfs, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n",
  )
  writeFileSync(join(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n")
  mkdirSync(join(rootfs, "tmp"), { recursive: true })
  // Sticky and world-writable, as every /tmp (mkdir's mode would be cut by the umask).
  chmodSync(join(rootfs, "tmp"), 0o1777)
}

export const pauseImage: NodeImage = {
  reference: "langop/pause:dev",
  file: "pause.tar",
  populate: (rootfs, build) => copyFileSync(nodeBin(build, "pause"), join(rootfs, "pause")),
  config: { entrypoint: ["/pause"], user: "65535:65535" },
}

export const corednsImage: NodeImage = {
  reference: "langop/coredns:dev",
  file: "coredns.tar",
  populate: (rootfs, build) => {
    etcFiles(rootfs)
    copyFileSync(nodeBin(build, "coredns"), join(rootfs, "coredns"))
  },
  // Binding port 53 as non-root works because containerd opens unprivileged ports in pods.
  config: { entrypoint: ["/coredns"], user: "65532:65532", exposedPorts: ["53/udp", "53/tcp", "9153/tcp"] },
}

export const debugImage: NodeImage = {
  reference: "langop/debug:dev",
  file: "debug.tar",
  populate: (rootfs, build) => {
    etcFiles(rootfs)
    const bin = join(rootfs, "bin")
    mkdirSync(bin, { recursive: true })
    const busybox = join(build.dir, "busybox", "busybox")
    copyFileSync(busybox, join(bin, "busybox"))
    const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n")
    for (const a of applets) if (a !== "" && a !== "busybox") symlinkSync("busybox", join(bin, a))
  },
  // A command, not an entrypoint: `kubectl run … -- sleep 3600` then runs `sleep 3600`, as with busybox.
  config: { cmd: ["/bin/sh"], env: ["PATH=/bin"] },
}

export const nodeImages: ReadonlyArray<NodeImage> = [pauseImage, corednsImage, debugImage]

/** Builds (once per node build) the archive of `image` and returns its path. */
export const ensureImageArchive = (
  build: NodeBuild,
  image: NodeImage,
): Effect.Effect<string, ImageBuildError> =>
  Effect.gen(function* () {
    const dir = join(build.dir, "images")
    // The binaries are fixed per build dir; the definition is not, so it is part of the name.
    const definition = createHash("sha256")
      .update(JSON.stringify([image.reference, image.config, image.populate.toString()]))
      .digest("hex")
      .slice(0, 12)
    const out = join(dir, image.file.replace(/\.tar$/, `-${definition}.tar`))
    if (existsSync(out)) return out
    mkdirSync(dir, { recursive: true })
    const rootfs = mkdtempSync(join(dir, ".rootfs-"))
    yield* Effect.sync(() => image.populate(rootfs, build))
    yield* writeOciArchive({ reference: image.reference, layers: [rootfs], config: image.config }, out).pipe(
      Effect.ensuring(Effect.sync(() => rmSync(rootfs, { recursive: true, force: true }))),
    )
    return out
  })
