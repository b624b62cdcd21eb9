// Runs a short-lived helper command (openssl, kubectl) to completion and captures its output.
// Never throws: a non-zero exit is data (`exitCode`), only `runChecked` turns it into an error.
import { execFile } from "node:child_process"
import { Effect } from "effect"
import { ClusterCommandError } from "./errors.ts"

export interface CommandResult {
  readonly stdout: string
  readonly stderr: string
  /** null when the process was killed by a signal or could not be started. */
  readonly exitCode: number | null
}

export interface CommandOptions {
  readonly cwd?: string
  readonly input?: string
  readonly env?: NodeJS.ProcessEnv
  readonly timeoutMs?: number
}

/** Runs `file args…`; resolves with its output whatever the exit code. */
export const runCommand = (
  file: string,
  args: ReadonlyArray<string>,
  options: CommandOptions = {},
): Effect.Effect<CommandResult> =>
  Effect.callback<CommandResult>((resume) => {
    const child = execFile(
      file,
      [...args],
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
        const extra = error !== null && typeof error.code === "string" ? `${error.message}\n` : ""
        resume(Effect.succeed({ stdout, stderr: extra + stderr, exitCode: code }))
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
    else child.stdin?.end()
    return Effect.sync(() => {
      if (child.exitCode === null) child.kill("SIGKILL")
    })
  })

/** Like `runCommand` but fails with `ClusterCommandError` on a non-zero exit. */
export const runChecked = (
  file: string,
  args: ReadonlyArray<string>,
  options: CommandOptions = {},
): Effect.Effect<CommandResult, ClusterCommandError> =>
  runCommand(file, args, options).pipe(
    Effect.flatMap((r) =>
      r.exitCode === 0
        ? Effect.succeed(r)
        : Effect.fail(
            new ClusterCommandError({
              command: [file, ...args].join(" "),
              exitCode: r.exitCode,
              stderr: r.stderr || r.stdout,
            }),
          ),
    ),
  )
