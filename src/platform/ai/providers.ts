// The configured provider as one AI SDK language model. Every base URL comes from config, so a
// test (or a proxy, or a self-hosted server) can stand in for the vendor.
// Each provider's package is imported only when it is the one configured.
import type { LanguageModel } from 'ai';
import type { AiConfig } from '../../config.ts';

export type ProviderConfig = AiConfig['provider'];

/** The model for a configured provider, or null for `offline`. */
export async function languageModelFor(provider: ProviderConfig): Promise<LanguageModel | null> {
  switch (provider.kind) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      // The chat completions API: the one OpenAI-compatible servers and proxies also speak.
      return createOpenAI({ apiKey: provider.apiKey, baseURL: provider.baseUrl }).chat(provider.model);
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      return createAnthropic({ apiKey: provider.apiKey, baseURL: provider.baseUrl })(provider.model);
    }
    case 'bedrock': {
      const { createAmazonBedrock } = await import('@ai-sdk/amazon-bedrock');
      // Model ids include cross-region inference profiles (us.meta.llama3-2-1b-instruct-v1:0). Without
      // keys in config the SDK uses the usual AWS credential chain of the host.
      return createAmazonBedrock({
        region: provider.region,
        ...(provider.baseUrl ? { baseURL: provider.baseUrl } : {}),
        ...(provider.credentials
          ? {
              accessKeyId: provider.credentials.accessKeyId,
              secretAccessKey: provider.credentials.secretAccessKey,
              ...(provider.credentials.sessionToken
                ? { sessionToken: provider.credentials.sessionToken }
                : {}),
            }
          : {}),
      })(provider.model);
    }
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      return createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: provider.baseUrl,
        ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
        includeUsage: true,
      }).chatModel(provider.model);
    }
    case 'offline':
      return null;
  }
}

/** `openai:gpt-4o-mini`, or `offline`: what /info shows (never a key). */
export function describeProvider(provider: ProviderConfig): { provider: string; model: string | null } {
  return provider.kind === 'offline'
    ? { provider: 'offline', model: null }
    : { provider: provider.kind, model: provider.model };
}
