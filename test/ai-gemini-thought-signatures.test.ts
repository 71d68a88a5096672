import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, WEATHER_TOOL, collect, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { startGeminiEmulator, thoughtSignatureFor, type GeminiEmulator } from './emulators/gemini.js';

/**
 * Gemini 3's thought signatures through the OpenAI-format API, with the `openai` client: Keygate gives each call's
 * signature with the call, where Google's own OpenAI-compatible API puts it (`extra_content.google.thought_signature`),
 * and gives Gemini back the signature a call comes back with. The Gemini emulator refuses, as Gemini 3 does, a
 * function call of the current turn that comes back without its signature or with one it did not give; OpenAI's
 * refuses a tool call member OpenAI does not define. (Google's own OpenAI-compatible API, which takes the signature
 * back, is an outside host: the adapter's unit tests show what it is sent.)
 */

const MODEL = 'gemini/gemini-3.8-flash';
const QUESTION: ChatCompletionMessageParam = { role: 'user', content: 'What is the weather in Paris? Use get_weather.' };
const SIGNED = { google: { thought_signature: thoughtSignatureFor('get_weather', 'gemini-3.8-flash') } };

type Json = Record<string, unknown>;

/** The call of a tool loop's first turn, and the messages that answer it: the history the client sends next. */
function historyAfter(assistant: ChatCompletionMessageParam, call: { id: string }): ChatCompletionMessageParam[] {
  return [QUESTION, assistant, { role: 'tool', tool_call_id: call.id, content: '{"celsius":21}' }];
}

describe("Gemini 3's thought signatures on /v1/chat/completions", () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: OpenAI;
  /** A Gemini that refuses the stand-in as well. */
  let strict: GeminiEmulator;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    strict = await startGeminiEmulator({ refusesStandIn: true });
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { providers: [{ name: 'strict', type: 'gemini', baseUrl: strict.url }] });
    await gateway.addProviderKey('strict', PROVIDER_SECRETS.gemini);
    client = gateway.openai(await gateway.createApp({ name: 'signatures-app', team: 'signatures-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await strict?.stop();
    await emulators?.stop();
  });

  it('gives the signature with the call, and Gemini gets it back from the call the client sends back as it got it', async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0] as ChatCompletionMessageToolCall & { extra_content?: unknown };
    expect(call.extra_content).toEqual(SIGNED);
    const second = await client.chat.completions.create({ model: MODEL, messages: historyAfter(message, call), tools: [WEATHER_TOOL] });
    const sent = emulators.gemini.lastRequest()!.body as { contents: Array<{ role: string; parts: Json[] }> };
    expect(sent.contents[1]).toEqual({ role: 'model', parts: [{ functionCall: { id: call.id, name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: thoughtSignatureFor('get_weather', 'gemini-3.8-flash') }] });
    expect(second.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
  });

  it('streams the signature in the call\'s delta, and takes it back from a call rebuilt from the deltas with it', async () => {
    const chunks = (await collect(await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL], stream: true }))) as ChatCompletionChunk[];
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []) as Array<ChatCompletionChunk.Choice.Delta.ToolCall & { extra_content?: unknown }>;
    expect(deltas).toHaveLength(1);
    const [delta] = deltas;
    expect(delta!.extra_content).toEqual(SIGNED);
    const call = { id: delta!.id!, type: 'function' as const, function: { name: delta!.function!.name!, arguments: delta!.function!.arguments! }, extra_content: delta!.extra_content };
    const second = await client.chat.completions.create({ model: MODEL, messages: historyAfter({ role: 'assistant', content: null, tool_calls: [call] }, call), tools: [WEATHER_TOOL] });
    expect((emulators.gemini.lastRequest()!.body as { contents: Array<{ parts: Json[] }> }).contents[1]!.parts[0]!.thoughtSignature).toBe(thoughtSignatureFor('get_weather', 'gemini-3.8-flash'));
    expect(second.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
  });

  it("sends Google's stand-in for a call that comes back without its signature, and Gemini 3 takes the turn", async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const { id, type, function: fn } = first.choices[0]!.message.tool_calls![0] as ChatCompletionMessageToolCall & { type: 'function' };
    const rebuilt = { id, type, function: fn };
    const second = await client.chat.completions.create({ model: MODEL, messages: historyAfter({ role: 'assistant', content: null, tool_calls: [rebuilt] }, rebuilt), tools: [WEATHER_TOOL] });
    expect((emulators.gemini.lastRequest()!.body as { contents: Array<{ parts: Json[] }> }).contents[1]!.parts[0]!.thoughtSignature).toBe('skip_thought_signature_validator');
    expect(second.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
  });

  it('answers through the stand-in when Gemini refuses a signature a call comes back with (tampered), asking twice', async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const call = { ...(first.choices[0]!.message.tool_calls![0] as ChatCompletionMessageToolCall & { type: 'function' }), extra_content: { google: { thought_signature: 'bm90IGdpdmVu' } } };
    const before = emulators.gemini.requests().length;
    const second = await client.chat.completions.create({ model: MODEL, messages: historyAfter({ role: 'assistant', content: null, tool_calls: [call] }, call), tools: [WEATHER_TOOL] });
    expect(second.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
    expect(emulators.gemini.requests().length).toBe(before + 2);
  });

  it("sends the turn again with the stand-in when Gemini refuses a signature another of its models made, so a conversation can move between them", async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const message = first.choices[0]!.message;
    const before = emulators.gemini.requests().length;
    const second = await client.chat.completions.create({ model: 'gemini/gemini-3.7-flash', messages: historyAfter(message, message.tool_calls![0]!), tools: [WEATHER_TOOL] });
    expect(second.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
    const sent = emulators.gemini.requests().slice(before).map((request) => (request.body as { contents: Array<{ parts: Json[] }> }).contents[1]!.parts[0]!.thoughtSignature);
    expect(sent).toEqual([thoughtSignatureFor('get_weather', 'gemini-3.8-flash'), 'skip_thought_signature_validator']);
  });

  it("sends the turn with the stand-in once only: a Gemini that refuses it too answers the client its 400, after two requests", async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const message = first.choices[0]!.message;
    const refused = await client.chat.completions.create({ model: 'strict/gemini-3.7-flash', messages: historyAfter(message, message.tool_calls![0]!), tools: [WEATHER_TOOL] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect((refused as Error).message).toContain('Corrupted thought signature.');
    const sent = strict.requests().map((request) => (request.body as { contents: Array<{ parts: Json[] }> }).contents[1]!.parts[0]!.thoughtSignature);
    expect(sent).toEqual([thoughtSignatureFor('get_weather', 'gemini-3.8-flash'), 'skip_thought_signature_validator']);
  });

  it('sends OpenAI the history without the signatures, which it does not define', async () => {
    const first = await client.chat.completions.create({ model: MODEL, messages: [QUESTION], tools: [WEATHER_TOOL] });
    const message = first.choices[0]!.message;
    const call = message.tool_calls![0]!;
    // The same conversation, its next turn on OpenAI: the tool call goes as OpenAI defines it.
    const onOpenAI = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: historyAfter(message, call), tools: [WEATHER_TOOL] });
    expect(onOpenAI.choices[0]!.message.content).toBe('The tool answered: {"celsius":21}');
    const toOpenAI = emulators.openai.lastRequest()!.body as { messages: Array<{ tool_calls?: Json[] }> };
    expect(toOpenAI.messages[1]!.tool_calls![0]).not.toHaveProperty('extra_content');
  });
});
