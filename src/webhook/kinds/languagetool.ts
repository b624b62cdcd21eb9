/**
 * LanguageTool admission: defaulting (`spec.egress[].to.service.namespace`, see defaults.ts; nothing
 * else) and validation = the static rules of `src/domain/languagetool.ts` (shared with the
 * controller); tools look nothing up.
 */
import { Effect } from "effect"
import { LanguageTool } from "../../api/languagetool.ts"
import { staticToolFindings } from "../../domain/languagetool.ts"
import { applyDefaults } from "../defaults.ts"
import type { KindAdmission } from "./common.ts"

export const toolAdmission: KindAdmission<typeof LanguageTool> = {
  kind: "LanguageTool",
  schema: LanguageTool,
  mutate: (object, namespace) => applyDefaults("LanguageTool", object, namespace),
  validate: ({ object }) => Effect.succeed(staticToolFindings(object)),
}
