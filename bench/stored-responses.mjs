// The event-loop cost of stored Responses on the SQLite store: StoredResponses.save() of a typical Response (about
// 4 KB: a 1 KB question, a 3 KB answer) continuing a chain, so that the chain is LENGTH long once saved, and
// StoredResponses.chain() of a chain LENGTH long. Each is awaited one after the other, WARMUP unrecorded calls, then
// CALLS timed; and, to tell a chain read's SQL from its opening, the opening of one typical row (its seal and its
// JSON). better-sqlite3 runs its statements, and node:crypto's AES-GCM its sealing and opening, on the event loop. `loopUs` is
// the event loop's busy time a call (performance.eventLoopUtilization), `wallUs` its wall time. Each save branches
// off the same chain, so the chain it walks is as long for every call.
//
//   npm run build && CALLS=3000 WARMUP=300 node bench/stored-responses.mjs
// prints a line with the typical row's size, then one JSON line per measure: { op, length, calls, loopUs, wallUs }
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { chatToResponse, responseEchoOf, responsesToChat, RESPONSE_INPUT } from '../dist/ai/responses-ingress/index.js';
import { StoredResponses } from '../dist/ai/stored-responses.js';
import { sealerFor } from '../dist/keys/index.js';
import { openStore } from '../dist/store/index.js';

const calls = Number(process.env.CALLS ?? 3000);
const warmup = Number(process.env.WARMUP ?? 300);
const DAY = 86_400_000;
const now = Date.now();
const ownership = { owner: JSON.stringify(['app', 'bench-app']), app: 'bench-app', team: 'bench-team', route: 'ai' };
const question = 'How do I rotate a signing key without breaking the tokens already issued? '.repeat(14);
const answer = 'Publish the new key in the JWKS first, sign with it after the publish lead, retire the old one later. '.repeat(30);

/** A turn as the handler keeps it, continuing `previous` (a kept turn) if given. */
function turn(previous) {
  const body = { model: 'gpt-4o-mini', input: question, ...(previous ? { previous_response_id: previous.response.id } : {}) };
  const request = responsesToChat(body, previous ? { id: previous.response.id, items: [] } : undefined);
  const completion = { id: 'c', object: 'chat.completion', created: Math.floor(now / 1000), model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 250, completion_tokens: 750, total_tokens: 1000 } };
  return { response: chatToResponse(completion, request.model, responseEchoOf(request)), input: request[RESPONSE_INPUT] };
}

/** Runs `op` WARMUP then CALLS times, one after the other; the event loop's busy µs and the wall µs a call. */
async function measure(op) {
  for (let i = 0; i < warmup; i++) await op();
  const startElu = performance.eventLoopUtilization();
  const start = performance.now();
  for (let i = 0; i < calls; i++) await op();
  const wall = performance.now() - start;
  const elu = performance.eventLoopUtilization(startElu);
  return { calls, loopUs: Math.round((elu.active * 1000) / calls), wallUs: Math.round((wall * 1000) / calls) };
}

const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-stored-'));
const masterKey = randomBytes(32);
const store = await openStore(`sqlite:${join(dir, 'keygate.db')}`);
try {
  const responses = new StoredResponses(store, masterKey);
  // One chain of 100 turns; its 1st, 10th and 100th turns end chains of 1, 10 and 100.
  const chain = [];
  for (let n = 0; n < 100; n++) {
    const kept = turn(chain.at(-1));
    await responses.save(ownership, kept, now, 30 * DAY);
    chain.push(kept);
  }
  console.log(JSON.stringify({ typicalBytes: Buffer.byteLength(JSON.stringify(chain[1])) }));
  for (const length of [1, 10, 100]) {
    // A save that makes a chain `length` long continues the turn before it; the first turn's continues none.
    const previous = length === 1 ? undefined : chain[length - 2];
    const branch = turn(previous);
    let n = 0;
    const result = await measure(() => responses.save(ownership, { ...branch, response: { ...branch.response, id: `resp_bench_${length}_${n++}` } }, now, 30 * DAY));
    console.log(JSON.stringify({ op: 'save', length, ...result }));
  }
  for (const length of [10, 100]) {
    const id = chain[length - 1].response.id;
    const result = await measure(async () => {
      const read = await responses.chain(id, ownership.owner, now + 1);
      if (read.found !== 'chain' || read.responses.length !== length) throw new Error(`the chain of ${length} read as ${read.found}`);
    });
    console.log(JSON.stringify({ op: 'chain', length, ...result }));
  }
  const row = await store.db.selectFrom('ai_responses').select(['id', 'sealed']).where('id', '=', chain[1].response.id).executeTakeFirstOrThrow();
  // The sealer StoredResponses makes for its rows (its purpose and binding, as stored-responses.ts has them).
  const sealer = sealerFor(masterKey, 'ai_responses.row');
  const result = await measure(async () => JSON.parse(sealer.open(row.sealed, `ai_responses:${row.id}:${JSON.stringify(ownership.owner)}`)));
  console.log(JSON.stringify({ op: 'open', length: 1, ...result }));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
