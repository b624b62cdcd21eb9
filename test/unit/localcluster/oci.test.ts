import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { normalizeReference, writeOciArchive } from "../../../src/localcluster/node/oci.ts"

describe("normalizeReference", () => {
  it.each([
    ["langop/pause:dev", "docker.io/langop/pause:dev"],
    ["pause:dev", "docker.io/library/pause:dev"],
    ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"],
    ["localhost:5000/a/b:v1", "localhost:5000/a/b:v1"],
    ["org/team/app:1.2.3", "docker.io/org/team/app:1.2.3"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeReference(input)).toBe(expected)
  })

  it.each(["langop/pause", "Langop/pause:dev", "langop/pause:", "a//b:t", ""])("rejects %j", (input) => {
    expect(normalizeReference(input)).toBeUndefined()
  })
})

// Needs GNU tar (as the writer itself does); everything happens in a temporary directory.
describe("writeOciArchive", () => {
  const work = mkdtempSync(join(tmpdir(), "oci-test-"))
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  const base = join(work, "base")
  mkdirSync(join(base, "bin"), { recursive: true })
  writeFileSync(join(base, "bin", "tool"), "#!/bin/sh\necho hi\n")
  chmodSync(join(base, "bin", "tool"), 0o755)
  symlinkSync("tool", join(base, "bin", "alias"))
  const app = join(work, "app")
  mkdirSync(join(app, "app"), { recursive: true })
  writeFileSync(join(app, "app", "main.js"), "console.log(1)\n")
  chmodSync(join(app, "app", "main.js"), 0o640)

  const spec = {
    reference: "langop/test:dev",
    layers: [base, app],
    config: { entrypoint: ["/bin/tool"], cmd: ["--x"], user: "65532:65532", workingDir: "/app" },
  }
  const sha = (path: string) => `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`
  const extract = (archive: string) => {
    const dir = mkdtempSync(join(work, "x-"))
    execFileSync("tar", ["-xf", archive, "-C", dir])
    return dir
  }
  const blobPath = (layout: string, digest: string) => join(layout, "blobs", "sha256", digest.slice(7))

  it.effect("writes a layout whose blobs match their digests and whose index names the image", () =>
    Effect.gen(function* () {
      const out = join(work, "img.tar")
      const result = yield* writeOciArchive(spec, out)
      expect(result.reference).toBe("docker.io/langop/test:dev")
      const layout = extract(out)
      expect(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8"))).toEqual({
        imageLayoutVersion: "1.0.0",
      })
      const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"))
      expect(index.manifests).toHaveLength(1)
      const [entry] = index.manifests
      expect(entry.digest).toBe(result.manifestDigest)
      expect(entry.annotations).toEqual({
        "io.containerd.image.name": "docker.io/langop/test:dev",
        "org.opencontainers.image.ref.name": "dev",
      })
      expect(sha(blobPath(layout, entry.digest))).toBe(entry.digest)
      const manifest = JSON.parse(readFileSync(blobPath(layout, entry.digest), "utf8"))
      expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json")
      expect(manifest.layers).toHaveLength(2)
      for (const d of [manifest.config, ...manifest.layers]) {
        expect(sha(blobPath(layout, d.digest))).toBe(d.digest)
        expect(readFileSync(blobPath(layout, d.digest)).length).toBe(d.size)
      }
      const config = JSON.parse(readFileSync(blobPath(layout, manifest.config.digest), "utf8"))
      expect(config.rootfs.diff_ids).toEqual(manifest.layers.map((l: { digest: string }) => l.digest))
      expect(config.config).toMatchObject({
        Entrypoint: ["/bin/tool"],
        Cmd: ["--x"],
        User: "65532:65532",
        WorkingDir: "/app",
      })
      expect(config.architecture).toBe("amd64")
      // Layer contents keep modes and symlinks.
      const listing = (d: { digest: string }) =>
        execFileSync("tar", ["-tvf", blobPath(layout, d.digest)], { encoding: "utf8" })
      const [baseLayer, appLayer] = manifest.layers
      expect(listing(baseLayer)).toMatch(/^-rwxr-xr-x .* \.\/bin\/tool$/m)
      expect(listing(baseLayer)).toMatch(/^lrwxrwxrwx .* \.\/bin\/alias -> tool$/m)
      expect(listing(appLayer)).toMatch(/^-rw-r----- .* \.\/app\/main\.js$/m)
      expect(listing(appLayer)).not.toMatch(/bin\/tool/)
    }),
  )

  it.effect("gives the same digest for the same input and another for changed content", () =>
    Effect.gen(function* () {
      const first = yield* writeOciArchive(spec, join(work, "a.tar"))
      const again = yield* writeOciArchive(spec, join(work, "b.tar"))
      expect(again.manifestDigest).toBe(first.manifestDigest)
      writeFileSync(join(app, "app", "main.js"), "console.log(2)\n")
      const changed = yield* writeOciArchive(spec, join(work, "c.tar"))
      expect(changed.manifestDigest).not.toBe(first.manifestDigest)
    }),
  )

  it.effect("names the bad field: a reference without a tag, a missing layer directory", () =>
    Effect.gen(function* () {
      const noTag = yield* writeOciArchive({ ...spec, reference: "langop/test" }, join(work, "d.tar")).pipe(
        Effect.flip,
      )
      expect(noTag.message).toContain('invalid image reference "langop/test"')
      const missing = yield* writeOciArchive(
        { ...spec, layers: [join(work, "nope")] },
        join(work, "e.tar"),
      ).pipe(Effect.flip)
      expect(missing.message).toContain(`layer directory ${join(work, "nope")} does not exist`)
    }),
  )
})
