import type { Entity } from '../core/entity.ts';

/** Anything that extracts entities per text (the NER engine, or the engine already wrapped). */
export interface EntityExtractor {
  extract(texts: string[]): Promise<Entity[][]>;
}

/**
 * The engine with a per-document step applied to what `extract` returns (label consistency, the
 * disorder dictionary, linking: src/pipeline/nlp-engine.ts stacks them); every other member (model,
 * runtime, close, ...) is the engine's own.
 */
export function withEntityStep<T extends EntityExtractor>(engine: T, step: (text: string, entities: Entity[]) => Entity[]): T {
  const extract = async (texts: string[]): Promise<Entity[][]> => (await engine.extract(texts)).map((entities, i) => step(texts[i]!, entities));
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'extract') return extract;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
