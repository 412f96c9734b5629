import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AnalysisProviderError, type AnalysisInput } from '../../src/agent/analysis';
import { analyzeUploads } from '../../src/agent/analyze-uploads';
import { createAnalysisProvider } from '../../src/agent/create-provider';
import { extractFile } from '../../src/agent/extract';
import { LocalAnalyzer } from '../../src/agent/local-analyzer';
import { OpenAIProvider } from '../../src/agent/openai-provider';
import { loadConfig } from '../../src/core/config';
import { EXIF, PDF, jpegWithExif, pdf, upload } from '../helpers/agent-fixtures';

interface ReceivedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: {
    model: string;
    response_format: { type: string };
    messages: { role: string; content: string }[];
  };
}

/** A stand-in for any OpenAI-compatible server: records each request and answers as the test says. */
class FakeChatServer {
  private server!: Server;
  requests: ReceivedRequest[] = [];
  respond: (res: ServerResponse) => void = () => {};

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    this.respond(res);
  }

  /** Answers like chat-completions, with `content` as the assistant's message. */
  static completion(content: string) {
    return (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: 'test-model',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    };
  }

  static status(status: number) {
    return (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `failure ${status}`, type: 'test' } }));
    };
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const VERDICT = {
  summary: 'The photo was edited and taken two years after the claimed date.',
  claims: [
    {
      text: 'This photo was taken on 12 March 2021.',
      source: 'prompt',
      assessment: 'False',
      confidence: 85,
      reasoning: 'The EXIF capture date is 2023-06-01.',
      sources: ['EXIF DateTimeOriginal'],
    },
    { text: 'The Golden Gate Bridge opened in 1937.', source: 'bridge.pdf', assessment: 'supported', confidence: 0.97, reasoning: 'Well documented.', sources: ['https://en.wikipedia.org/wiki/Golden_Gate_Bridge'] },
    { text: 'Its main span is 1280 metres long.', source: 'bridge.pdf', assessment: 'mostly true', confidence: '0.6', reasoning: 'Close.', sources: [] },
  ],
  files: [{ file_name: 'eiffel.jpg', flags: ['lighting is inconsistent with the claimed season'] }],
  confidence: 0.8,
  reasoning: 'Metadata contradicts the prompt.',
  sources: ['https://example.org/exif'],
};

describe('OpenAI-compatible provider', () => {
  const server = new FakeChatServer();
  let baseUrl: string;
  let input: AnalysisInput;
  const provider = () => new OpenAIProvider({ baseUrl, apiKey: 'test-key', model: 'clara-test-model', timeoutMs: 2000 });

  before(async () => {
    baseUrl = await server.start();
    input = {
      prompt: 'This photo was taken on 12 March 2021. The attached PDF is accurate.',
      files: await Promise.all([extractFile(upload('eiffel.jpg', jpegWithExif())), extractFile(upload('bridge.pdf', await pdf()))]),
    };
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests = [];
  });

  test('sends the prompt and the extracted files, and normalises the JSON verdict', async () => {
    server.respond = FakeChatServer.completion(JSON.stringify(VERDICT));
    const result = await provider().analyze(input);

    assert.equal(server.requests.length, 1);
    const [request] = server.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/chat/completions');
    assert.equal(request.authorization, 'Bearer test-key');
    assert.equal(request.body.model, 'clara-test-model');
    assert.deepEqual(request.body.response_format, { type: 'json_object' });
    assert.deepEqual(request.body.messages.map((message) => message.role), ['system', 'user']);
    const sent = JSON.parse(request.body.messages[1].content);
    assert.equal(sent.prompt, input.prompt);
    assert.deepEqual(sent.files.map((file: { file_name: string }) => file.file_name), ['eiffel.jpg', 'bridge.pdf']);
    assert.equal(sent.files[0].facts.camera, EXIF.model);
    assert.equal(sent.files[0].facts.software, EXIF.software);
    assert.ok(sent.files[0].offline_flags.includes('capture date 2023-06-01 is after the date claimed in the prompt ("on 12 March 2021")'));
    assert.equal(sent.files[1].text, PDF.text);

    assert.equal(result.kind, 'model-verdict');
    assert.deepEqual(result.provider, { name: 'openai-compatible', model: 'clara-test-model' });
    assert.equal(result.summary, VERDICT.summary);
    assert.equal(result.confidence, 0.8);
    assert.deepEqual(
      result.claims.map((claim) => [claim.source, claim.assessment, claim.confidence]),
      [
        ['prompt', 'contradicted', 0.85],
        ['bridge.pdf', 'supported', 0.97],
        ['bridge.pdf', 'needs-review', 0.6],
      ],
    );
    assert.deepEqual(result.sources, ['https://example.org/exif', 'EXIF DateTimeOriginal', 'https://en.wikipedia.org/wiki/Golden_Gate_Bridge']);
    const photo = result.files.find((file) => file.fileName === 'eiffel.jpg')!;
    const messages = (file: typeof photo) => file.findings.map((f) => f.message);
    assert.deepEqual(photo.findings.at(-1), { kind: 'model-observation', severity: 'warning', message: 'lighting is inconsistent with the claimed season', evidence: null });
    assert.ok(messages(photo).includes(`edited with ${EXIF.software}`), 'offline flags are kept');
    assert.ok(messages(photo).includes('lighting is inconsistent with the claimed season'), 'model flags are added');
    assert.match(result.disclaimer, /clara-test-model/);
  });

  test('an answer wrapped in a Markdown code fence is still read', async () => {
    server.respond = FakeChatServer.completion('```json\n' + JSON.stringify({ summary: 'Fenced.', claims: [] }) + '\n```');
    assert.equal((await provider().analyze(input)).summary, 'Fenced.');
  });

  test('a malformed answer is a clear, retryable error', async () => {
    const answers: [string, RegExp][] = [
      ['Sure! The photo looks fake.', /not JSON/],
      ['[1, 2]', /not a JSON object/],
      [JSON.stringify({ claims: [] }), /no summary/],
      [JSON.stringify({ summary: 'ok', claims: 'none' }), /"claims" is not a list/],
      [JSON.stringify({ summary: 'ok', claims: [{ assessment: 'supported' }] }), /claim 1 has no text/],
    ];
    for (const [content, message] of answers) {
      server.respond = FakeChatServer.completion(content);
      await assert.rejects(provider().analyze(input), (error: unknown) => {
        assert.ok(error instanceof AnalysisProviderError, String(error));
        assert.equal(error.retryable, true);
        assert.match(error.message, /^The model's answer is malformed/);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  test('a server that does not answer in time is a retryable timeout', async () => {
    server.respond = () => {}; // never answers
    const started = Date.now();
    const slow = new OpenAIProvider({ baseUrl, model: 'clara-test-model', timeoutMs: 300 });
    await assert.rejects(slow.analyze(input), (error: unknown) => {
      assert.ok(error instanceof AnalysisProviderError, String(error));
      assert.equal(error.retryable, true);
      assert.equal(error.message, 'The model did not answer within 300 ms');
      return true;
    });
    assert.ok(Date.now() - started < 2000, 'gave up at the timeout, without retrying');
    assert.equal(server.requests.length, 1);
  });

  test('a refused key is final, an overloaded server is retryable', async () => {
    server.respond = FakeChatServer.status(401);
    await assert.rejects(provider().analyze(input), (error: unknown) => error instanceof AnalysisProviderError && !error.retryable && /HTTP 401/.test(error.message));
    server.respond = FakeChatServer.status(503);
    await assert.rejects(provider().analyze(input), (error: unknown) => error instanceof AnalysisProviderError && error.retryable && /HTTP 503/.test(error.message));
  });

  test('the factory uses the model when a base URL is configured, the local analyzer otherwise', async () => {
    const env = { JWT_SECRET: 'test-secret', NODE_ENV: 'test' };
    assert.ok(createAnalysisProvider(loadConfig(env)) instanceof LocalAnalyzer);

    const config = loadConfig({ ...env, AGENT_OPENAI_BASE_URL: baseUrl, AGENT_OPENAI_API_KEY: 'configured-key', AGENT_MODEL: 'configured-model', AGENT_TIMEOUT_MS: '1500' });
    assert.equal(config.agentTimeoutMs, 1500);
    const configured = createAnalysisProvider(config);
    assert.ok(configured instanceof OpenAIProvider);
    server.respond = FakeChatServer.completion(JSON.stringify({ summary: 'Nothing to check.', claims: [] }));
    const result = await analyzeUploads(configured, 'Hello', [upload('note.txt', 'Just a note.')]);
    assert.equal(result.summary, 'Nothing to check.');
    assert.equal(result.confidence, null);
    assert.equal(server.requests[0].body.model, 'configured-model');
    assert.equal(server.requests[0].authorization, 'Bearer configured-key');
  });
});
