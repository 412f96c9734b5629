import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type ModelBehaviour = 'verdict' | 'error-500' | 'error-401' | 'hang';

/** A server speaking OpenAI's chat-completions protocol, whose answer the test chooses. */
export class FakeModel {
  behaviour: ModelBehaviour = 'verdict';
  requests = 0;
  private server!: Server;
  private hanging: ServerResponse[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        this.requests++;
        if (this.behaviour === 'hang') return void this.hanging.push(res);
        if (this.behaviour !== 'verdict') {
          const status = this.behaviour === 'error-401' ? 401 : 500;
          return void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `fake ${status}`, type: 'test' } }));
        }
        answerVerdict(res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
    return this;
  }

  /** Answers the requests held so far (behaviour `hang`) with the verdict; returns how many there were. */
  answerHeld(): number {
    const held = this.hanging.splice(0);
    for (const res of held) answerVerdict(res);
    return held.length;
  }

  /** Requests held (behaviour `hang`) and not answered yet. */
  get held(): number {
    return this.hanging.length;
  }

  /** Answers the requests held so far with the verdict, and later ones so too. */
  release(): void {
    this.behaviour = 'verdict';
    this.answerHeld();
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function answerVerdict(res: ServerResponse): void {
  const verdict = {
    summary: 'The claim is contradicted by the records.',
    claims: [{ text: 'The bridge opened in 1932.', source: 'prompt', assessment: 'contradicted', confidence: 0.8, reasoning: 'Opened in 1937.', sources: ['https://example.org/bridge'] }],
    confidence: 0.8,
    reasoning: 'Records show 1937.',
    sources: ['https://example.org/bridge'],
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion', created: 0, model: 'test-model', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: JSON.stringify(verdict) } }] }),
  );
}
