// Certificates, keys and kubeconfigs of one local control plane, made with the openssl CLI.
// Guarantees: one throw-away CA per run; the apiserver serving cert is valid for 127.0.0.1,
// localhost and the in-cluster `kubernetes` names; client identities follow
// hack/local-up-cluster.sh (admin in system:masters, KCM and scheduler as their bootstrap-RBAC
// users). Everything is written below `dir`, which the caller owns and removes.
import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { stringify } from "yaml"
import { runChecked } from "./command.ts"
import type { ClusterCommandError } from "./errors.ts"

export interface CertPair {
  readonly cert: string
  readonly key: string
}

export interface Pki {
  readonly dir: string
  readonly ca: CertPair
  readonly caPem: string
  readonly apiserver: CertPair
  readonly admin: CertPair
  readonly controllerManager: CertPair
  readonly scheduler: CertPair
  /** Service-account token signing key pair (RSA). */
  readonly serviceAccountKey: string
  readonly serviceAccountPub: string
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"] as const
const days = "3650"

const openssl = (args: ReadonlyArray<string>, cwd: string) => runChecked("openssl", args, { cwd })

export const leaf = (dir: string, name: string, subject: string, extensions: string) =>
  Effect.gen(function* () {
    const ext = join(dir, `${name}.ext`)
    writeFileSync(ext, extensions)
    yield* openssl(
      ["req", "-new", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject],
      dir,
    )
    // A random serial instead of -CAcreateserial: leaves are signed concurrently.
    const serial = `0x${randomBytes(8).toString("hex")}`
    yield* openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        serial,
        "-days",
        days,
        "-extfile",
        ext,
        "-out",
        `${name}.crt`,
      ],
      dir,
    )
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) } satisfies CertPair
  })

const serverExt = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default," +
    "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
  "",
].join("\n")
export const clientExt = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=clientAuth",
  "",
].join("\n")

/** Creates the CA, serving and client certificates and the service-account key pair in `dir`. */
export const makePki = (dir: string): Effect.Effect<Pki, ClusterCommandError> =>
  Effect.gen(function* () {
    yield* openssl(
      [
        "req",
        "-x509",
        ...ecKey,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        days,
        "-subj",
        "/CN=langop-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      ],
      dir,
    )
    const [apiserver, admin, controllerManager, scheduler] = yield* Effect.all(
      [
        leaf(dir, "apiserver", "/CN=kube-apiserver", serverExt),
        leaf(dir, "admin", "/O=system:masters/CN=langop-admin", clientExt),
        leaf(dir, "kcm", "/CN=system:kube-controller-manager", clientExt),
        leaf(dir, "scheduler", "/CN=system:kube-scheduler", clientExt),
      ],
      { concurrency: 2 },
    )
    yield* openssl(["genrsa", "-out", "sa.key", "2048"], dir)
    yield* openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir)
    return {
      dir,
      ca: { cert: join(dir, "ca.crt"), key: join(dir, "ca.key") },
      caPem: readFileSync(join(dir, "ca.crt"), "utf8"),
      apiserver,
      admin,
      controllerManager,
      scheduler,
      serviceAccountKey: join(dir, "sa.key"),
      serviceAccountPub: join(dir, "sa.pub"),
    }
  })

const b64 = (path: string) => readFileSync(path).toString("base64")

/** Writes a self-contained kubeconfig (all data embedded) for `user` and returns its path. */
export const writeKubeconfig = (path: string, server: string, pki: Pki, user: CertPair): string => {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "langop-local", cluster: { server, "certificate-authority-data": b64(pki.ca.cert) } }],
    users: [
      {
        name: "langop-local",
        user: { "client-certificate-data": b64(user.cert), "client-key-data": b64(user.key) },
      },
    ],
    contexts: [{ name: "langop-local", context: { cluster: "langop-local", user: "langop-local" } }],
    "current-context": "langop-local",
    preferences: {},
  }
  writeFileSync(path, stringify(doc), { mode: 0o600 })
  return path
}
