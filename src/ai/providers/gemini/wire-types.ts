/**
 * The members of the Gemini API (https://ai.google.dev/api/generate-content, https://ai.google.dev/api/embeddings)
 * that Keygate writes or reads. Google adds fields freely; unknown ones are ignored.
 */
export interface GeminiFunctionCall {
  name: string;
  args?: Record<string, unknown>;
  id?: string;
}

export interface GeminiPart {
  text?: string;
  /** Set on parts that are the model's thoughts, which are not part of the answer. */
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  /** `id` is the id of the call it answers (FunctionResponse.id). */
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  /** The client's own JSON Schema, in place of `parameters` (never both). */
  parametersJsonSchema?: Record<string, unknown>;
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
  /** The client's own JSON Schema, in place of `responseSchema` (never both). */
  responseJsonSchema?: Record<string, unknown>;
  thinkingConfig?: GeminiThinkingConfig;
  responseLogprobs?: boolean;
  /** Top candidates a decoding step, with responseLogprobs. */
  logprobs?: number;
}

/** https://ai.google.dev/gemini-api/docs/thinking: a level (Gemini 3 on) or a budget (Gemini 2.5), never both. */
export interface GeminiThinkingConfig {
  includeThoughts?: boolean;
  thinkingBudget?: number;
  thinkingLevel?: 'minimal' | 'low' | 'medium' | 'high';
}

export interface GeminiGenerateRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  logprobsResult?: GeminiLogprobsResult;
}

/** A candidate's log probabilities (https://ai.google.dev/api/generate-content#LogprobsResult): one entry a decoding step. */
export interface GeminiLogprobsResult {
  chosenCandidates?: Array<{ token?: string; tokenId?: number; logProbability?: number }>;
  topCandidates?: Array<{ candidates?: Array<{ token?: string; tokenId?: number; logProbability?: number }> }>;
  logProbabilitySum?: number;
}

/** A whole answer, and each event of a streamed one (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse). */
export interface GeminiGenerateResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

export interface GeminiBatchEmbedResponse {
  embeddings: Array<{ values: number[] }>;
}

/** Google's error body (https://ai.google.dev/gemini-api/docs/troubleshooting), google.rpc.Status in JSON. */
export interface GeminiErrorBody {
  error: { code?: number; message?: string; status?: string; details?: Array<Record<string, unknown>> };
}
