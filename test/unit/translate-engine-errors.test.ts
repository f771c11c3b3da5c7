import { describe, expect, it } from 'vitest';
import { ChatTemplateError } from '../../src/engine/model/chat.js';
import { ModelConfigError } from '../../src/engine/model/config.js';
import { QwenImageError } from '../../src/engine/model/families/qwen-vl/image-processor.js';
import { PromptError } from '../../src/engine/model/prompt.js';
import { toClientError } from '../../src/resolvers/translate-error.js';

describe('engine refusals reach clients with their codes', () => {
  it('an unsupported config names its key', () => {
    const e = toClientError(new ModelConfigError('rope_scaling.rope_type', 'config.json: yarn is not built'));
    expect(e.extensions).toMatchObject({ code: 'MODEL_UNSUPPORTED', key: 'rope_scaling.rope_type' });
  });

  it('an image the processor refuses keeps its reason', () => {
    const e = toClientError(new QwenImageError('IMAGE_ASPECT_RATIO', 'aspect ratio 250 exceeds 200'));
    expect(e.extensions).toMatchObject({ code: 'IMAGE_INVALID', reason: 'IMAGE_ASPECT_RATIO' });
  });

  it('prompt and chat-template mistakes are the user\'s', () => {
    expect(toClientError(new PromptError('2 markers, 1 image')).extensions?.code).toBe('BAD_USER_INPUT');
    expect(toClientError(new ChatTemplateError('no chat template')).extensions?.code).toBe('BAD_USER_INPUT');
  });
});
