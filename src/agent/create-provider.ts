import type { Config } from '../core/config';
import type { AnalysisProvider } from './analysis';
import { LocalAnalyzer } from './local-analyzer';
import { OpenAIProvider } from './openai-provider';

export type AgentConfig = Pick<Config, 'agentOpenAiBaseUrl' | 'agentOpenAiApiKey' | 'agentModel' | 'agentTimeoutMs'>;

/** The model when one is configured (AGENT_OPENAI_BASE_URL), otherwise the offline local analyzer. */
export function createAnalysisProvider(config: AgentConfig): AnalysisProvider {
  if (!config.agentOpenAiBaseUrl) return new LocalAnalyzer();
  return new OpenAIProvider({
    baseUrl: config.agentOpenAiBaseUrl,
    apiKey: config.agentOpenAiApiKey,
    model: config.agentModel,
    timeoutMs: config.agentTimeoutMs,
  });
}
