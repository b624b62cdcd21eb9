/**
 * Condition bookkeeping with metav1.Condition semantics (spec docs/concepts.md §7.1).
 *
 * Guarantees: setting a condition equal in status, reason, message and observedGeneration is a no-op (same
 * array contents); `lastTransitionTime` changes only when `status` flips; the list stays sorted by type so
 * status equality does not depend on the order conditions were set.
 */
import type { Condition } from "../../api/shared.ts"

export type ConditionStatus = "True" | "False" | "Unknown"

export interface ConditionInput {
  readonly type: string
  readonly status: ConditionStatus
  readonly reason: string
  readonly message: string
}

/** Kubernetes truncates nothing for us: a message over 32768 characters would fail the whole status write. */
const MAX_MESSAGE = 32768

export const setCondition = (
  existing: ReadonlyArray<Condition> | undefined,
  input: ConditionInput,
  observedGeneration: number | undefined,
  now: string,
): ReadonlyArray<Condition> => {
  const list = existing ?? []
  const message =
    input.message.length > MAX_MESSAGE ? `${input.message.slice(0, MAX_MESSAGE - 3)}...` : input.message
  const previous = list.find((c) => c.type === input.type)
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message,
    lastTransitionTime:
      previous !== undefined && previous.status === input.status ? previous.lastTransitionTime : now,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  }
  if (
    previous !== undefined &&
    previous.status === next.status &&
    previous.reason === next.reason &&
    previous.message === next.message &&
    previous.observedGeneration === next.observedGeneration
  )
    return list
  return [...list.filter((c) => c.type !== input.type), next].sort((a, b) => (a.type < b.type ? -1 : 1))
}

/** Apply several conditions in order. */
export const setConditions = (
  existing: ReadonlyArray<Condition> | undefined,
  inputs: ReadonlyArray<ConditionInput>,
  observedGeneration: number | undefined,
  now: string,
): ReadonlyArray<Condition> =>
  inputs.reduce<ReadonlyArray<Condition>>(
    (list, input) => setCondition(list, input, observedGeneration, now),
    existing ?? [],
  )

export const findCondition = (list: ReadonlyArray<Condition> | undefined, type: string) =>
  list?.find((c) => c.type === type)

export const isTrue = (list: ReadonlyArray<Condition> | undefined, type: string) =>
  findCondition(list, type)?.status === "True"

/** What one pass of writing children ran into: objects controlled by someone else, and failed writes. */
export interface WriteProblems<Role extends string> {
  readonly conflicts: ReadonlyArray<{ readonly message: string }>
  readonly errors: ReadonlyArray<{ readonly role: Role; readonly message: string }>
}

/** `Reconciled`: True when every generated object was written, else False naming every problem. */
export const reconciledCondition = (problems: WriteProblems<string>): ConditionInput => {
  const messages = [...problems.conflicts.map((c) => c.message), ...problems.errors.map((e) => e.message)]
  return messages.length === 0
    ? {
        type: "Reconciled",
        status: "True",
        reason: "ReconcileSuccess",
        message: "All generated objects applied",
      }
    : { type: "Reconciled", status: "False", reason: "ReconcileError", message: messages.join("; ") }
}

/**
 * `Ready=False` for a pass with problems, or undefined when there were none. A name conflict wins (only
 * a user can resolve it, and it names every conflicting object); otherwise the first failed write, with
 * the reason its child's role maps to.
 */
export const writeFailureCondition = <Role extends string>(
  problems: WriteProblems<Role>,
  reasonOf: Readonly<Record<Role, string>>,
): ConditionInput | undefined => {
  const firstError = problems.errors[0]
  return problems.conflicts.length > 0
    ? {
        type: "Ready",
        status: "False",
        reason: "NameConflict",
        message: problems.conflicts.map((c) => c.message).join("; "),
      }
    : firstError !== undefined
      ? { type: "Ready", status: "False", reason: reasonOf[firstError.role], message: firstError.message }
      : undefined
}

/** The fields of a condition that say whether it flipped. */
export type ConditionState = Pick<Condition, "type" | "status" | "reason" | "message">

/**
 * Conditions of `after` that flipped to False: present in `before` as True or Unknown and False now.
 *
 * Why only flips: a condition that starts out False on a new object reports work the user just asked for
 * (a workload still starting, a namespace being created), and one that stays False is a problem already
 * reported; a condition that *was* True and is False now means something broke, which is what a user must
 * hear about. Comparing what was read with what is written makes this once per transition, not once per
 * reconcile.
 */
export const flippedToFalse = (
  before: ReadonlyArray<ConditionState> | undefined,
  after: ReadonlyArray<ConditionState> | undefined,
): ReadonlyArray<ConditionState> =>
  (after ?? []).filter((c) => {
    if (c.status !== "False") return false
    const previous = findCondition(before as ReadonlyArray<Condition> | undefined, c.type)
    return previous !== undefined && previous.status !== "False"
  })
