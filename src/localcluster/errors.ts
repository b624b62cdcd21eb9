// Typed failures of the local control plane harness. Every message is meant for a human reading a
// failed test run: it names the component and, for startup failures, carries the tail of its log.
import { Schema } from "effect"

/** `test/cluster/build.sh` failed (no Go, compile error, module download error …). */
export class ClusterBuildError extends Schema.TaggedError<ClusterBuildError>()("ClusterBuildError", {
  message: Schema.String,
  exitCode: Schema.NullOr(Schema.Int),
}) {}

/** A component could not be started or did not become ready in time. */
export class ClusterStartError extends Schema.TaggedError<ClusterStartError>()("ClusterStartError", {
  component: Schema.String,
  message: Schema.String,
  /** Tails of every component's log at the time of the failure, already formatted. */
  logs: Schema.String,
}) {}

/** A helper command (openssl, kubectl) failed while setting the cluster up. */
export class ClusterCommandError extends Schema.TaggedError<ClusterCommandError>()("ClusterCommandError", {
  command: Schema.String,
  exitCode: Schema.NullOr(Schema.Int),
  stderr: Schema.String,
}) {
  override get message(): string {
    return `${this.command} failed (exit ${String(this.exitCode)}): ${this.stderr.trim()}`
  }
}

export type LocalClusterError = ClusterBuildError | ClusterStartError | ClusterCommandError
