// @difflens/chat: chat templates, system-prompt conditions and token regions.

export type { AlpacaOptions, AlpacaRow } from "./alpaca.ts";
export { alpacaToMessages } from "./alpaca.ts";
export type { LoadChatTemplateOptions, TemplateRenderContext } from "./chat-template.ts";
export {
  BUNDLED_TEMPLATES,
  bundledChatTemplate,
  ChatTemplate,
  chatTemplateFromSource,
  loadChatTemplate,
  loadChatTemplateFromFolder,
} from "./chat-template.ts";
export type { SystemCondition, SystemConditionKind } from "./conditions.ts";
export { conditionLabel, parseSystemCondition, SystemConditions } from "./conditions.ts";
export type { ChatErrorCode, ChatErrorFacts } from "./errors.ts";
export { ChatError } from "./errors.ts";
export type { ChatTurn, Span, TurnMarkers } from "./locate-turns.ts";
export { CHATML_MARKERS } from "./locate-turns.ts";
export type { ChatMessage } from "./messages.ts";
export { DEFAULT_ROLES, validateMessages } from "./messages.ts";
export type { RegionQuery, TurnEnd } from "./positions.ts";
export {
  findRegions,
  firstAssistantToken,
  lastPromptToken,
  lastSystemContentToken,
  positionsOfToken,
  turnEnds,
} from "./positions.ts";
export type { Region, RegionKind, Segmentation } from "./regions.ts";
export { assertPartition } from "./regions.ts";
export type { RenderChatOptions, RenderedChat } from "./render-chat.ts";
export { applyCondition, renderChat } from "./render-chat.ts";
export { resolveTokenizeChatOptions } from "./resolve-options.ts";
export type { ChatTokenizer, ChatTokens, TokenizeChatOptions } from "./tokenize-chat.ts";
export { DEFAULT_SPECIALS, resolveSpecialIds, tokenizeChat, tokenizeRendered } from "./tokenize-chat.ts";
export { detectTurnMarkers, GEMMA_MARKERS, LLAMA3_MARKERS } from "./turn-layouts.ts";
