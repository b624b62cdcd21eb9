/**
 * Schedules and whether kube-apiserver accepts them as `CronJob.spec.schedule` (on create). The
 * integration test `test/integration/api/cron-schedule.test.ts` proves every `accepted` value against
 * a real API server; the unit test checks the shared validator against the same table, so a change
 * to either side fails fast.
 */
export interface CronCase {
  readonly schedule: string
  readonly accepted: boolean
  /** What the case exercises. */
  readonly why: string
}

const ok = (schedule: string, why: string): CronCase => ({ schedule, accepted: true, why })
const no = (schedule: string, why: string): CronCase => ({ schedule, accepted: false, why })

export const CRON_CORPUS: ReadonlyArray<CronCase> = [
  // Plain fields, lists, ranges, steps
  ok("0 * * * *", "hourly"),
  ok("* * * * *", "every minute"),
  ok("*/5 * * * *", "step over *"),
  ok("0 9-17 * * 1-5", "ranges"),
  ok("0 0 1,15 * *", "list"),
  ok("0-59/10 0-23 1-31 1-12 0-6", "full ranges with a step"),
  ok("5/10 * * * *", "n/step runs to the field maximum"),
  ok("10-20/3 * * * *", "range with a step"),
  ok("59 23 31 12 6", "every upper bound"),
  ok("0 0 1 1 0", "every lower bound"),
  ok("0 0 30 2 *", "a day that never comes is still syntax-valid"),
  ok("*/59 */23 */31 */12 */6", "steps equal to the span"),
  ok("*/100 * * * *", "step larger than the span"),
  ok("0 0 * * */9223372036854775807", "step at int64 max"),
  no("0 0 * * */9223372036854775808", "step above int64"),
  // `?` is accepted in every field by robfig, not only the day fields
  ok("0 ? * * *", "? as hour (the reproduced disagreement)"),
  ok("? * * * *", "? as minute"),
  ok("0 0 ? * *", "? as day of month"),
  ok("0 0 * * ?", "? as day of week"),
  ok("0 0 * ? *", "? as month"),
  ok("?/15 * * * *", "? with a step"),
  // Names
  ok("0 0 1 jan *", "month name"),
  ok("0 0 1 JAN-MAR *", "upper-case month range"),
  ok("0 0 * * Mon-Fri", "mixed-case weekday range"),
  ok("30 2 * jan-MAR SUN", "names in both fields"),
  ok("0 0 * jan/2 *", "name with a step"),
  ok("0 0 * * sun,wed,sat", "list of weekday names"),
  no("0 0 * * monday", "full weekday names are not names"),
  no("0 0 1 january *", "full month names are not names"),
  no("0 0 * * jan", "month name in the weekday field"),
  no("0 jan * * *", "name in a numeric field"),
  // Numbers as Go's strconv.Atoi reads them
  ok("+5 * * * *", "leading plus sign"),
  ok("05 007 * * *", "leading zeros"),
  no("0x10 * * * *", "hexadecimal"),
  no("1.5 * * * *", "decimal number"),
  // Empty list items are skipped
  ok("1,,2 * * * *", "empty list item"),
  ok("1, * * * *", "trailing comma"),
  ok(", * * * *", "a field of commas only"),
  // `*-…` ignores what follows the dash
  ok("*-5 * * * *", "*- is read as *"),
  ok("?-3/2 * * * *", "?- is read as ?"),
  // Out of range and malformed items
  no("60 * * * *", "minute 60"),
  no("0 24 * * *", "hour 24"),
  no("0 0 0 * *", "day of month 0"),
  no("0 0 32 * *", "day of month 32"),
  no("0 0 * 0 *", "month 0"),
  no("0 0 * 13 *", "month 13"),
  no("0 0 * * 7", "weekday 7 (Sunday is 0 only)"),
  no("5-1 * * * *", "descending range"),
  no("1-2-3 * * * *", "two dashes"),
  no("-1 * * * *", "negative number"),
  no("1- * * * *", "open range"),
  no("*/0 * * * *", "step 0"),
  no("*/-1 * * * *", "negative step"),
  no("*/ * * * *", "empty step"),
  no("*/a * * * *", "step not a number"),
  no("1/2/3 * * * *", "two slashes"),
  no("5-* * * * *", "* as the end of a range"),
  no("L * * * *", "Quartz L"),
  no("0 0 * * 1#2", "Quartz #"),
  no("0 0 15W * *", "Quartz W"),
  no("a b c d e", "words"),
  no("99999999999999999999 * * * *", "number beyond int64"),
  // Field count and white space
  no("* * * *", "four fields"),
  no("0 0 * * * *", "six fields (seconds are not allowed)"),
  no("0 0 0 * * * 2030", "seven fields"),
  no("", "empty"),
  no(" ", "a space only"),
  no("\t\n", "white space only"),
  ok("  0   3 * * *  ", "extra and surrounding spaces"),
  ok("0\t3\t*\t*\t*", "tabs between fields"),
  ok("0\u00a03 * * *", "no-break space separates fields (Go unicode.IsSpace)"),
  no("0\ufeff3 * * *", "BOM does not separate fields"),
  // Descriptors
  ok("@yearly", "descriptor"),
  ok("@annually", "descriptor"),
  ok("@monthly", "descriptor"),
  ok("@weekly", "descriptor"),
  ok("@daily", "descriptor"),
  ok("@midnight", "descriptor"),
  ok("@hourly", "descriptor"),
  no("@reboot", "not a descriptor"),
  no("@DAILY", "descriptors are case-sensitive"),
  no("@daily ", "trailing space after a descriptor"),
  no(" @daily", "leading space before a descriptor"),
  no("@", "@ alone"),
  // @every <Go duration>
  ok("@every 5m", "@every minutes"),
  ok("@every 1h30m", "@every compound duration"),
  ok("@every 1.5h", "@every fractional hours"),
  ok("@every 500ms", "@every below a second"),
  ok("@every 0", "@every zero"),
  ok("@every -5s", "@every negative"),
  ok("@every 10\u00b5s", "@every micro sign unit"),
  no("@every", "@every without a duration"),
  no("@every ", "@every with an empty duration"),
  no("@every 5", "duration without a unit"),
  no("@every 5d", "days are not a Go unit"),
  no("@every  5m", "two spaces before the duration"),
  no("@every 5m ", "trailing space after the duration"),
  no("@every .s", "no digits"),
  no("@every 3000000h", "duration beyond int64 nanoseconds"),
  no("@EVERY 5m", "@every is case-sensitive"),
  // Time zones: Kubernetes wants spec.timeZone and refuses anything containing TZ
  no("TZ=UTC 0 * * * *", "TZ= prefix"),
  no("CRON_TZ=Europe/Paris 0 3 * * *", "CRON_TZ= prefix"),
  no("TZ=UTC", "TZ= without a schedule"),
  no("CRON_TZ=Nowhere/Invalid 0 * * * *", "unknown zone"),
  no("TZ=UTC @daily", "TZ= before a descriptor"),
  no("0 0 * * * TZ", "TZ as an extra field"),
]
