import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

/** True once tracing.ts started the SDK; with tracing off, the helpers below call straight through. */
const enabled = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
const tracingEnabled = (): boolean => enabled;
const tracer = () => trace.getTracer('clara');

/** Runs `fn` inside a span of its own (a child of the active one); with tracing off, just runs it. */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T> | T): Promise<T> | T {
  if (!tracingEnabled()) return fn();
  return tracer().startActiveSpan(name, { attributes }, (span) => endedAfter(span, fn));
}

/** The active trace context as strings (`traceparent`), to travel in a job's data; undefined with tracing off. */
export function traceCarrier(): Record<string, string> | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/** Runs a job in a consumer span whose parent is the request that queued it (from `traceCarrier`). */
export function inJobSpan<T>(name: string, carrier: Record<string, string> | undefined, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return fn();
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, (span) => endedAfter(span, fn));
}

async function endedAfter<T>(span: Span, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
