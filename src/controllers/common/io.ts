/** Small I/O helpers shared by every reconciler's gather step. */
import { Effect } from "effect"
import type { KubeError } from "../../kube/errors.ts"

/** A read whose NotFound means "absent" rather than an error. */
export const orUndefinedOnNotFound = <A>(
  eff: Effect.Effect<A, KubeError>,
): Effect.Effect<A | undefined, KubeError> =>
  Effect.catchTag(eff, "NotFound", () => Effect.succeed(undefined))

/** RFC 3339 with seconds precision, as metav1.Time serialises. */
export const rfc3339 = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/u, "Z")
