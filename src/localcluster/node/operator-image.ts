// The operator image, assembled without a container engine from what deploy/Dockerfile names: a
// base of Debian's C runtime libraries plus the Node 24 binary of the repository's `node`
// devDependency (instead of `node:24-bookworm-slim`), and a second layer with package.json,
// package-lock.json, the production dependencies, src/ and certs/pki.ts; user 1000:1000, workdir
// /app, `CMD ["node", "src/main.ts"]`. The Dockerfile stays the way to build it with an engine.
//
// Cached in ~/.cache/langop-testnode/images/operator-<hash>.tar, where the hash covers every input
// (the .deb files, the node binary, the lock file, the sources), so an edit to src/ rebuilds it; archives
// unused for an hour are then removed.
import { createHash } from "node:crypto"
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs"
import { join, relative } from "node:path"
import { Effect } from "effect"
import { repoRoot } from "../binaries.ts"
import { runCommand } from "../command.ts"
import { nodeCacheRoot } from "./build.ts"
import { ImageBuildError, writeOciArchive } from "./oci.ts"

export const operatorImageReference = "langop/operator:dev"

/** What the Node binary links against (ldd): glibc, libstdc++ and libgcc's unwinder. */
export const basePackages: ReadonlyArray<string> = ["libc6", "libstdc++6", "libgcc-s1"]

const fail = (message: string) => new ImageBuildError({ image: operatorImageReference, message })

const run = (file: string, args: ReadonlyArray<string>, cwd: string) =>
  runCommand(file, args, { cwd, timeoutMs: 600_000 }).pipe(
    Effect.flatMap((r) =>
      r.exitCode === 0
        ? Effect.succeed(r.stdout)
        : Effect.fail(fail(`${file} ${args.join(" ")}: ${r.stderr.trim()}`)),
    ),
  )

/** The .deb files of `names` (Debian's candidate versions), downloaded once into `dir`. */
const debianDebs = (dir: string, names: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    mkdirSync(dir, { recursive: true })
    const have = (name: string) =>
      readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".deb"))
    const missing = names.filter((n) => have(n) === undefined)
    if (missing.length > 0) yield* run("apt-get", ["download", "-q", ...missing], dir)
    return names.map((n) => join(dir, have(n) ?? ""))
  })

/** Every file below `dir` with its content, in a stable order (for the cache key). */
const hashTree = (hash: ReturnType<typeof createHash>, dir: string, root: string = dir): void => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name)
    if (e.isDirectory()) hashTree(hash, p, root)
    else if (e.isFile()) hash.update(relative(root, p)).update(readFileSync(p))
  }
}

const passwd = "root:x:0:0:root:/root:/bin/false\nnode:x:1000:1000:node:/home/node:/bin/false\n"
const group = "root:x:0:\nnode:x:1000:\n"

/** Builds (when an input changed) the operator image archive and returns its path. */
export const ensureOperatorImage = (): Effect.Effect<string, ImageBuildError> =>
  Effect.gen(function* () {
    const cache = join(nodeCacheRoot(), "images")
    const debs = yield* debianDebs(join(cache, "debs"), basePackages)
    const nodeBinary = join(repoRoot, "node_modules", "node", "bin", "node")
    if (!existsSync(nodeBinary))
      return yield* fail(`${nodeBinary} is missing: run npm ci (the node devDependency provides Node 24)`)
    const hash = createHash("sha256")
    for (const d of debs) hash.update(d)
    hash.update(readFileSync(nodeBinary))
    for (const f of ["package.json", "package-lock.json", "certs/pki.ts"])
      hash.update(f).update(readFileSync(join(repoRoot, f)))
    hashTree(hash, join(repoRoot, "src"))
    hash.update(readFileSync(new URL(import.meta.url)))
    const out = join(cache, `operator-${hash.digest("hex").slice(0, 16)}.tar`)
    if (existsSync(out)) {
      // Marks it as in use for the clean-up below.
      utimesSync(out, new Date(), new Date())
      return out
    }

    const work = mkdtempSync(join(cache, ".operator-"))
    return yield* Effect.gen(function* () {
      const base = join(work, "base")
      mkdirSync(base)
      for (const d of debs) yield* run("dpkg-deb", ["-x", d, base], work)
      // Only the runtime libraries: documentation and package metadata are not needed at run time.
      rmSync(join(base, "usr", "share"), { recursive: true, force: true })
      mkdirSync(join(base, "usr", "local", "bin"), { recursive: true })
      copyFileSync(nodeBinary, join(base, "usr", "local", "bin", "node"))
      mkdirSync(join(base, "etc"), { recursive: true })
      writeFileSync(join(base, "etc", "passwd"), passwd)
      writeFileSync(join(base, "etc", "group"), group)
      for (const d of ["tmp", "home/node"]) mkdirSync(join(base, d), { recursive: true })
      chmodSync(join(base, "tmp"), 0o1777)

      const app = join(work, "app", "app")
      mkdirSync(join(app, "certs"), { recursive: true })
      for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(repoRoot, f), join(app, f))
      copyFileSync(join(repoRoot, "certs", "pki.ts"), join(app, "certs", "pki.ts"))
      cpSync(join(repoRoot, "src"), join(app, "src"), { recursive: true })
      // As the Dockerfile: production dependencies only, no install scripts.
      yield* run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], app)
      yield* writeOciArchive(
        {
          reference: operatorImageReference,
          layers: [base, join(work, "app")],
          config: {
            env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
            workingDir: "/app",
            user: "1000:1000",
            cmd: ["node", "src/main.ts"],
            exposedPorts: ["9443/tcp", "8080/tcp", "8081/tcp"],
          },
        },
        out,
      )
      // Each source change makes a new ~300 MB archive: drop the ones not used for an hour (a
      // younger one may be about to be imported by another checkout's run).
      for (const f of readdirSync(cache)) {
        const p = join(cache, f)
        if (
          /^operator-[0-9a-f]{16}\.tar$/.test(f) &&
          p !== out &&
          statSync(p).mtimeMs < Date.now() - 3_600_000
        )
          rmSync(p, { force: true })
      }
      return out
    }).pipe(Effect.ensuring(Effect.sync(() => rmSync(work, { recursive: true, force: true }))))
  })
