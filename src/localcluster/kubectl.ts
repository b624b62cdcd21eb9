// kubectl as a subprocess against one kubeconfig. Results are data: callers decide what a
// non-zero exit means (e.g. "not found yet" while polling).
import { Effect } from "effect"
import { type CommandResult, runCommand } from "./command.ts"

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string
  readonly timeoutMs?: number
}

export const kubectl = (
  kubectlPath: string,
  kubeconfigPath: string,
  args: ReadonlyArray<string>,
  options: KubectlOptions = {},
): Effect.Effect<CommandResult> =>
  runCommand(kubectlPath, [`--kubeconfig=${kubeconfigPath}`, ...args], {
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeoutMs: options.timeoutMs ?? 120_000,
  })

/** Promise form for plain async code (vitest helpers). */
export const kubectlPromise = (
  kubectlPath: string,
  kubeconfigPath: string,
  args: ReadonlyArray<string>,
  options: KubectlOptions = {},
): Promise<CommandResult> => Effect.runPromise(kubectl(kubectlPath, kubeconfigPath, args, options))
