/**
 * The one definition of "a schedule a Kubernetes CronJob accepts", used by admission (webhook) and by
 * the LanguageAgent controller, so the two can never disagree about an agent's `spec.schedule`.
 *
 * kube-apiserver validates `CronJob.spec.schedule` by calling robfig/cron v3's `ParseStandard` (with
 * panic recovery) and then refusing any schedule that contains `TZ` (a time zone belongs in
 * `spec.timeZone`, which agents do not expose). This module re-implements exactly that parser's
 * acceptance rules — including its permissive corners — rather than a tidier cron dialect, because a
 * schedule we accept and the API server refuses leaves an agent without its CronJob:
 *
 * - Descriptors are matched on the untrimmed string and case-sensitively: `@yearly`, `@annually`,
 *   `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, and `@every <Go duration>` (any duration
 *   Go's `time.ParseDuration` reads, even `0` or a negative one).
 * - Otherwise the string is split on (Unicode) white space into exactly five fields: minute 0-59,
 *   hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT (names
 *   case-insensitive). Each field is a comma list whose empty items are skipped (`1,,2` and even `,`
 *   are accepted); an item is `*` or `?` (in every field, not only the day fields; anything after a
 *   leading `*-` / `?-` is ignored), `n`, or `n-m`, optionally followed by `/step` (step ≥ 1; `n/step`
 *   runs to the field's maximum). Numbers are Go `strconv.Atoi` integers, so a leading `+` and
 *   leading zeros are fine.
 *
 * The differential test `test/integration/api/cron-schedule.test.ts` checks every verdict against the
 * API server itself.
 */

interface Field {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly names?: Readonly<Record<string, number>>
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
}
const DAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }

const FIELDS: ReadonlyArray<Field> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 6, names: DAYS },
]

export const CRON_DESCRIPTORS: ReadonlyArray<string> = [
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]

// Go's `strings.Fields` splits on `unicode.IsSpace`, which differs from JavaScript's `\s` (it has
// U+0085 and lacks U+FEFF).
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u

const INT64_MAX = (1n << 63n) - 1n

/** Go `strconv.Atoi` for the parser's purposes: an optional `+`, decimal digits, within int64. */
const atoi = (text: string): bigint | undefined => {
  if (!/^[+-]?[0-9]+$/u.test(text)) return undefined
  const value = BigInt(text)
  return value > INT64_MAX || value < -INT64_MAX - 1n ? undefined : value
}

/** robfig's `mustParseInt`: Atoi, then no negative numbers. */
const number = (text: string, field: Field, what: string): bigint | string => {
  const value = atoi(text)
  if (value === undefined)
    return text === "" ? `${field.name} ${what} is missing` : `"${text}" is not a ${field.name}`
  return value < 0n ? `negative number "${text}" in the ${field.name} field` : value
}

const numberOrName = (text: string, field: Field): bigint | string => {
  const named = field.names?.[text.toLowerCase()]
  return named === undefined ? number(text, field, "value") : BigInt(named)
}

/** Why one comma-separated item of a field is refused, or undefined (robfig's `getRange`). */
const itemProblem = (item: string, field: Field): string | undefined => {
  const rangeAndStep = item.split("/")
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-")
  let start: bigint
  let end: bigint
  const first = lowAndHigh[0] ?? ""
  if (first === "*" || first === "?") {
    start = BigInt(field.min)
    end = BigInt(field.max)
  } else {
    const low = numberOrName(first, field)
    if (typeof low === "string") return low
    start = low
    if (lowAndHigh.length > 2) return `"${item}" has more than one '-'`
    if (lowAndHigh.length === 2) {
      const high = numberOrName(lowAndHigh[1] ?? "", field)
      if (typeof high === "string") return high
      end = high
    } else end = low
  }
  if (rangeAndStep.length > 2) return `"${item}" has more than one '/'`
  if (rangeAndStep.length === 2) {
    const step = number(rangeAndStep[1] ?? "", field, "step")
    if (typeof step === "string") return step
    if (lowAndHigh.length === 1) end = BigInt(field.max)
    if (step === 0n) return `the step of "${item}" must be at least 1`
  }
  if (start < BigInt(field.min) || end > BigInt(field.max))
    return `${field.name} "${item}" is outside ${field.min}-${field.max}`
  if (start > end) return `range "${item}" starts after it ends`
  return undefined
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
}

const TWO_63 = 1n << 63n

/** Whether Go's `time.ParseDuration` reads `text` (the argument of `@every`). */
export const isGoDuration = (input: string): boolean => {
  let s = input
  const negative = s.startsWith("-")
  if (s.startsWith("-") || s.startsWith("+")) s = s.slice(1)
  if (s === "0") return true
  if (s === "") return false
  let total = 0n
  while (s !== "") {
    const match = /^([0-9]*)(\.([0-9]*))?/u.exec(s)
    const whole = match?.[1] ?? ""
    const fraction = match?.[3]
    if (whole === "" && (fraction === undefined || fraction === "")) return false
    // Go's leadingInt gives up above 2^63.
    let value = 0n
    for (const digit of whole) {
      if (value > TWO_63 / 10n) return false
      value = value * 10n + BigInt(digit)
      if (value > TWO_63) return false
    }
    s = s.slice(match?.[0].length ?? 0)
    const unitEnd = s.search(/[.0-9]/u)
    const unitText = unitEnd === -1 ? s : s.slice(0, unitEnd)
    if (unitText === "") return false
    const unit = DURATION_UNITS[unitText]
    if (unit === undefined) return false
    s = s.slice(unitText.length)
    if (value > TWO_63 / unit) return false
    value *= unit
    const digits = (fraction ?? "").replace(/0+$/u, "")
    if (digits !== "") {
      // Go keeps about 18 digits of the fraction in a float64 product; exactness only matters at the
      // int64 boundary, which no schedule comes near.
      value += BigInt(Math.floor(Number(`0.${digits}`) * Number(unit)))
      if (value > TWO_63) return false
    }
    total += value
    if (total > TWO_63) return false
  }
  return negative || total <= TWO_63 - 1n
}

const descriptorProblem = (schedule: string): string | undefined => {
  if (CRON_DESCRIPTORS.includes(schedule)) return undefined
  if (schedule.startsWith("@every ")) {
    const duration = schedule.slice("@every ".length)
    return isGoDuration(duration)
      ? undefined
      : `"${duration}" is not a duration (e.g. @every 1h30m; units ns, us, ms, s, m, h)`
  }
  return `"${schedule}" is not one of ${CRON_DESCRIPTORS.join(", ")} or @every <duration>`
}

/**
 * Why a CronJob with this `schedule` would be refused by the API server (a sentence naming the
 * problem), or `undefined` when it would be accepted. The caller decides what an agent's empty
 * schedule means; here an empty string is refused, as the API server refuses it.
 */
export const cronScheduleProblem = (schedule: string): string | undefined => {
  if (schedule === "") return "is empty"
  if (schedule.includes("TZ"))
    return "must not contain TZ: a TZ= or CRON_TZ= time zone prefix is refused by Kubernetes CronJobs"
  if (schedule.startsWith("@")) return descriptorProblem(schedule)
  const fields = schedule.split(GO_SPACE).filter((f) => f !== "")
  if (fields.length !== FIELDS.length)
    return `expected 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`
  for (const [i, field] of FIELDS.entries()) {
    for (const item of (fields[i] ?? "").split(",")) {
      if (item === "") continue
      const problem = itemProblem(item, field)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}
