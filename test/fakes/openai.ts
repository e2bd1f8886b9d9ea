// Fake OpenAI-compatible chat completions server (a test double): POST /v1/chat/completions with
// Bearer auth, answering in OpenAI's wire format (choices, finish_reason, usage with prompt and
// completion tokens) and OpenAI's error JSON { error: { message, type, code } }. Serves the
// `openai` provider (OPENAI_BASE_URL) and any OpenAI-compatible one (AI_BASE_URL: Ollama,
// llama.cpp, vLLM speak the same format). Faults (timeouts, 5xx, 429) come from http-fake.
import { randomBytes } from 'node:crypto';
import { type HttpFake, type RecordedRequest, route, startHttpFake } from './http-fake.ts';

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
}

export interface FakeOpenAI extends HttpFake {
  /** The base URL clients use (`.../v1`). */
  baseUrl: string;
  /** Chat completion requests received, parsed. */
  chats(): ChatRequestBody[];
  /** What the assistant answers; a test can replace it. Defaults to numbered uplifting lines. */
  reply: (body: ChatRequestBody, index: number) => string;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export async function startFakeOpenAI(options: { apiKey?: string } = {}): Promise<FakeOpenAI> {
  let served = 0;
  const fake = (await startHttpFake((req: RecordedRequest) => {
    const auth = req.headers.authorization;
    if (options.apiKey && auth !== `Bearer ${options.apiKey}`) {
      return {
        status: 401,
        body: {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            code: 'invalid_api_key',
          },
        },
      };
    }
    if (!route('POST', '/v1/chat/completions')(req)) {
      return {
        status: 404,
        body: { error: { message: `Unknown path ${req.path}`, type: 'invalid_request_error' } },
      };
    }
    const body = req.json as ChatRequestBody | undefined;
    if (!body?.model || !Array.isArray(body.messages) || body.messages.length === 0) {
      return {
        status: 400,
        body: { error: { message: "'messages' and 'model' are required", type: 'invalid_request_error' } },
      };
    }
    served += 1;
    const content = extended.reply(body, served);
    const promptText = body.messages
      .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join(' ')))
      .join(' ');
    // Token counts like a tokenizer would give for English: about 1.3 tokens a word.
    const promptTokens = Math.ceil(words(promptText) * 1.3) + 3 * body.messages.length;
    const completionTokens = Math.ceil(words(content) * 1.3);
    return {
      status: 200,
      body: {
        id: `chatcmpl-${randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        system_fingerprint: 'fp_fake',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      },
    };
  })) as FakeOpenAI;
  const extended = Object.assign(fake, {
    baseUrl: `${fake.url}/v1`,
    chats: () =>
      fake.requests
        .filter((r) => r.path === '/v1/chat/completions' && r.json)
        .map((r) => r.json as ChatRequestBody),
    reply: (_body: ChatRequestBody, index: number) =>
      `Day ${index}: small steps still move you forward. Be proud of how far you have come.`,
  });
  return extended;
}
