/**
 * The admission server's serving certificate: `tls.crt` + `tls.key` read from a directory and
 * reloaded when they change.
 *
 * Guarantees:
 * - A pair is only ever handed out (to `current` and to `onChange` listeners, which call
 *   `server.setSecureContext`) after it was checked: both files parse, the key matches the
 *   certificate, the certificate has not expired, and `node:tls` builds a secure context from it.
 * - A pair that fails the check is logged once and ignored; the previous good pair stays in use.
 * - Changes are picked up from a watch on the directory (Kubernetes Secret volumes swap a `..data`
 *   symlink, which a watch on the files themselves would miss) and from a periodic check (default
 *   every 10 s) that covers missed events, a directory that did not exist yet, or a recreated one.
 *   Reloads are serialised; a half-written pair is rejected and picked up by the next event or tick.
 * - Nothing restarts: open connections keep the context they handshook with.
 * Assumptions: the files are PEM; `tls.crt` may hold a chain, the leaf first.
 * Caveat: without any valid pair the server still listens, but every TLS handshake fails and
 * `ready` is false until a valid pair appears.
 */
import { createPrivateKey, X509Certificate } from "node:crypto"
import { createSecureContext } from "node:tls"
import {
  Clock,
  Context,
  Duration,
  Effect,
  FileSystem,
  Layer,
  Path,
  Ref,
  Result,
  type Scope,
  Semaphore,
  Stream,
} from "effect"

export interface KeyPair {
  /** PEM certificate (chain), leaf first. */
  readonly cert: string
  /** PEM private key. */
  readonly key: string
}

export interface CertificateInfo {
  readonly subject: string
  readonly subjectAltName: string | undefined
  readonly serialNumber: string
  readonly fingerprint256: string
  readonly notBefore: Date
  readonly notAfter: Date
}

export interface LoadedCertificate {
  readonly pair: KeyPair
  readonly info: CertificateInfo
  readonly loadedAt: Date
}

export interface CertificateStatus {
  /** The pair in use, if any valid pair was ever loaded. */
  readonly current: LoadedCertificate | undefined
  /** Why the most recent candidate pair was rejected or unreadable; cleared by a successful load. */
  readonly lastError: string | undefined
}

export type ReloadOutcome = "loaded" | "unchanged" | "rejected"

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * Checks a candidate pair at time `now` (ms). Pure apart from parsing; used by the reloader and by
 * whoever writes certificates (the operator's own certificate manager).
 */
export const validateKeyPair = (pair: KeyPair, now: number): Result.Result<CertificateInfo, string> => {
  const cert = Result.try({
    try: () => new X509Certificate(pair.cert),
    catch: (e) => `tls.crt is not a parseable PEM certificate: ${message(e)}`,
  })
  if (Result.isFailure(cert)) return Result.fail(cert.failure)
  const key = Result.try({
    try: () => createPrivateKey(pair.key),
    catch: (e) => `tls.key is not a parseable private key: ${message(e)}`,
  })
  if (Result.isFailure(key)) return Result.fail(key.failure)
  const x = cert.success
  if (!x.checkPrivateKey(key.success)) return Result.fail("tls.key does not match the certificate in tls.crt")
  if (x.validToDate.getTime() <= now) {
    return Result.fail(`the certificate in tls.crt expired at ${x.validToDate.toISOString()}`)
  }
  const context = Result.try({
    try: () => createSecureContext({ cert: pair.cert, key: pair.key }),
    catch: (e) => `node:tls rejects the pair: ${message(e)}`,
  })
  if (Result.isFailure(context)) return Result.fail(context.failure)
  return Result.succeed({
    subject: x.subject,
    subjectAltName: x.subjectAltName,
    serialNumber: x.serialNumber,
    fingerprint256: x.fingerprint256,
    notBefore: x.validFromDate,
    notAfter: x.validToDate,
  })
}

export interface ServingCertificateOptions {
  /** Directory holding `tls.crt` and `tls.key` (e.g. a mounted `kubernetes.io/tls` Secret). */
  readonly dir: string
  /** Periodic re-check; default 10 seconds. */
  readonly pollInterval?: Duration.Input | undefined
  /** Watch the directory for changes (default true); the periodic check runs either way. */
  readonly watch?: boolean | undefined
  /** Quiet time after a change event before reloading, so both files are in place; default 100 ms. */
  readonly settle?: Duration.Input | undefined
}

export class ServingCertificate extends Context.Service<
  ServingCertificate,
  {
    readonly dir: string
    /** The pair in use, or undefined before the first valid pair. */
    readonly current: Effect.Effect<LoadedCertificate | undefined>
    readonly status: Effect.Effect<CertificateStatus>
    /** Readiness: a valid pair is loaded and has not expired since. */
    readonly ready: Effect.Effect<boolean>
    /** The current certificate's notAfter, for expiry metrics and alerts. */
    readonly notAfter: Effect.Effect<Date | undefined>
    /** Calls `listener` with every newly loaded pair until the scope closes. */
    readonly onChange: (listener: (pair: KeyPair) => void) => Effect.Effect<void, never, Scope.Scope>
    /** Checks the files now (what the watch and the timer do). */
    readonly reload: Effect.Effect<ReloadOutcome>
  }
>()("langop/webhook/ServingCertificate") {}

const sameFiles = (a: KeyPair, b: KeyPair) => a.cert === b.cert && a.key === b.key

const make = Effect.fnUntraced(function* (options: ServingCertificateOptions) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const certFile = path.join(options.dir, "tls.crt")
  const keyFile = path.join(options.dir, "tls.key")
  const state = yield* Ref.make<CertificateStatus>({ current: undefined, lastError: undefined })
  const lastRejected = yield* Ref.make<KeyPair | undefined>(undefined)
  const listeners = yield* Ref.make<ReadonlySet<(pair: KeyPair) => void>>(new Set())
  const lock = yield* Semaphore.make(1)

  const reject = (reason: string, candidate: KeyPair | undefined) =>
    Effect.gen(function* () {
      const previous = yield* Ref.getAndSet(lastRejected, candidate)
      const repeated = candidate !== undefined && previous !== undefined && sameFiles(previous, candidate)
      const before = yield* Ref.getAndUpdate(state, (s) => ({ ...s, lastError: reason }))
      if (!repeated && before.lastError !== reason) {
        yield* Effect.logWarning(
          `serving certificate in ${options.dir} not loaded; keeping the previous one`,
          reason,
        )
      }
      return "rejected" as const
    })

  const reload: Effect.Effect<ReloadOutcome> = Effect.gen(function* () {
    const read = yield* Effect.all([fs.readFileString(certFile), fs.readFileString(keyFile)]).pipe(
      Effect.result,
    )
    if (Result.isFailure(read))
      return yield* reject(`cannot read ${certFile} / ${keyFile}: ${read.failure.message}`, undefined)
    const pair: KeyPair = { cert: read.success[0], key: read.success[1] }
    const { current } = yield* Ref.get(state)
    if (current !== undefined && sameFiles(current.pair, pair)) {
      yield* Ref.update(state, (s) => ({ ...s, lastError: undefined }))
      return "unchanged" as const
    }
    const rejected = yield* Ref.get(lastRejected)
    if (rejected !== undefined && sameFiles(rejected, pair)) return "rejected" as const
    const now = yield* Clock.currentTimeMillis
    const checked = validateKeyPair(pair, now)
    if (Result.isFailure(checked)) return yield* reject(checked.failure, pair)
    const loaded: LoadedCertificate = { pair, info: checked.success, loadedAt: new Date(now) }
    yield* Ref.set(state, { current: loaded, lastError: undefined })
    yield* Ref.set(lastRejected, undefined)
    for (const listener of yield* Ref.get(listeners)) {
      yield* Effect.try({ try: () => listener(pair), catch: message }).pipe(
        Effect.catch((e) => Effect.logError("serving certificate listener failed", e)),
      )
    }
    yield* Effect.logInfo("serving certificate loaded").pipe(
      Effect.annotateLogs({
        dir: options.dir,
        subject: checked.success.subject,
        notAfter: checked.success.notAfter.toISOString(),
        sha256: checked.success.fingerprint256,
      }),
    )
    return "loaded" as const
  }).pipe(lock.withPermits(1))

  yield* reload
  const pollInterval = options.pollInterval ?? Duration.seconds(10)
  yield* Effect.sleep(pollInterval).pipe(Effect.andThen(reload), Effect.forever, Effect.forkScoped)
  if (options.watch ?? true) {
    // The watch ends when the directory disappears and fails when it does not exist; start it again
    // after a poll interval (the timer covers the gap).
    yield* fs.watch(options.dir).pipe(
      Stream.debounce(options.settle ?? Duration.millis(100)),
      Stream.runForEach(() => reload),
      Effect.catch((e) => Effect.logDebug(`cannot watch ${options.dir}`, e.message)),
      Effect.andThen(Effect.sleep(pollInterval)),
      Effect.forever,
      Effect.forkScoped,
    )
  }

  const current = Effect.map(Ref.get(state), (s) => s.current)
  return ServingCertificate.of({
    dir: options.dir,
    current,
    status: Ref.get(state),
    ready: Effect.gen(function* () {
      const loaded = yield* current
      return loaded !== undefined && (yield* Clock.currentTimeMillis) < loaded.info.notAfter.getTime()
    }),
    notAfter: Effect.map(current, (c) => c?.info.notAfter),
    onChange: (listener) =>
      Effect.acquireRelease(
        Ref.update(listeners, (set) => new Set([...set, listener])),
        () =>
          Ref.update(listeners, (set) => {
            const next = new Set(set)
            next.delete(listener)
            return next
          }),
      ),
    reload,
  })
})

/** Loads the pair now (the layer builds even when none is valid yet) and keeps it fresh. */
export const layer = (
  options: ServingCertificateOptions,
): Layer.Layer<ServingCertificate, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(ServingCertificate, make(options))
