import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from './gemini.js';

let emulator: GeminiEmulator;
const generate = (body: Record<string, unknown>) =>
  fetch(`${emulator.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-gemini-key' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], ...body }),
  });
const tree = { type: 'object', properties: { label: { type: 'string' }, point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] }, children: { type: 'array', items: { $ref: '#' } } }, required: ['label', 'point', 'children'] };

beforeAll(async () => {
  emulator = await startGeminiEmulator();
});
afterAll(() => emulator.stop());

describe('the Gemini emulator with JSON Schema', () => {
  it('answers a value built from responseJsonSchema, following $ref and prefixItems', async () => {
    const response = await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: tree } });
    const answer = JSON.parse(((await response.json()) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }).candidates[0]!.content.parts[0]!.text);
    expect(answer).toMatchObject({ label: 'Paris', point: [21, 'Paris'], children: [{ label: 'Paris', point: [21, 'Paris'] }] });
  });

  it('follows a $ref to an $anchor and one with an escaped pointer', async () => {
    const schema = { type: 'object', properties: { size: { $ref: '#size' }, unit: { $ref: '#/$defs/a~1b' } }, required: ['size', 'unit'], $defs: { size: { $anchor: 'size', type: 'string', enum: ['S'] }, 'a/b': { type: 'string', enum: ['cm'] } } };
    const response = await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } });
    const answer = JSON.parse(((await response.json()) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }).candidates[0]!.content.parts[0]!.text);
    expect(answer).toEqual({ size: 'S', unit: 'cm' });
  });

  it('refuses a $ref loop through required properties only, as Google does', async () => {
    const schema = { type: 'object', properties: { next: { $ref: '#' } }, required: ['next'] };
    expect((await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } })).status).toBe(400);
    const optional = { type: 'object', properties: { next: { $ref: '#' } } };
    expect((await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: optional } })).status).toBe(200);
  });

  it('refuses responseSchema and responseJsonSchema set together, as Google says only one may be', async () => {
    const response = await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: tree, responseSchema: { type: 'OBJECT', properties: { label: { type: 'STRING' } } } } });
    expect(response.status).toBe(400);
  });

  it('refuses responseJsonSchema without responseMimeType application/json, which Google requires with it', async () => {
    expect((await generate({ generationConfig: { responseJsonSchema: tree } })).status).toBe(400);
  });

  it('refuses a $ref with a sibling that is not a $ keyword', async () => {
    const schema = { type: 'object', properties: { next: { $ref: '#', description: 'The next one' } } };
    expect((await generate({ generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } })).status).toBe(400);
  });

  it('refuses a function declaration with both parameters and parametersJsonSchema', async () => {
    const declaration = { name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } } }, parametersJsonSchema: { type: 'object', properties: { a: { type: 'string' } } } };
    expect((await generate({ tools: [{ functionDeclarations: [declaration] }] })).status).toBe(400);
  });

  it('fills in a call’s arguments from parametersJsonSchema', async () => {
    const declaration = { name: 'set_level', parametersJsonSchema: { type: 'object', properties: { level: { type: 'integer', enum: [2, 3] } }, required: ['level'] } };
    const body = (await (await generate({ tools: [{ functionDeclarations: [declaration] }] })).json()) as { candidates: Array<{ content: { parts: Array<{ functionCall: { args: unknown } }> } }> };
    expect(body.candidates[0]!.content.parts[0]!.functionCall.args).toEqual({ level: 2 });
  });
});
