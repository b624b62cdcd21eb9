/** The API group `langop.io/v1alpha1`: every kind, in the order CRDs are installed and documented. */
import { LanguageAgentKind } from "./languageagent.ts"
import { LanguageClientKind } from "./languageclient.ts"
import { LanguageClusterKind } from "./languagecluster.ts"
import { LanguageModelKind } from "./languagemodel.ts"
import { LanguagePersonaKind } from "./languagepersona.ts"
import { LanguageToolKind } from "./languagetool.ts"

export {
  LanguageAgent,
  LanguageAgentKind,
  LanguageAgentSpec,
  LanguageAgentStatus,
} from "./languageagent.ts"
export {
  LanguageClient,
  LanguageClientKind,
  LanguageClientSpec,
  LanguageClientStatus,
} from "./languageclient.ts"
export {
  LanguageCluster,
  LanguageClusterKind,
  LanguageClusterSpec,
  LanguageClusterStatus,
} from "./languagecluster.ts"
export {
  LanguageModel,
  LanguageModelKind,
  LanguageModelSpec,
  LanguageModelStatus,
} from "./languagemodel.ts"
export {
  LanguagePersona,
  LanguagePersonaKind,
  LanguagePersonaSpec,
  LanguagePersonaStatus,
} from "./languagepersona.ts"
export {
  LanguageTool,
  LanguageToolKind,
  LanguageToolSpec,
  LanguageToolStatus,
} from "./languagetool.ts"
export * from "./shared.ts"

/** Every kind definition; the CRD generator, client registry and webhook table iterate over this list. */
export const allKinds = [
  LanguageClusterKind,
  LanguageAgentKind,
  LanguageToolKind,
  LanguageModelKind,
  LanguagePersonaKind,
  LanguageClientKind,
] as const
