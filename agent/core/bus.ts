import type { Logger } from './logger.js';
import { describeError } from './errors.js';

type Listener<P> = (payload: P) => void | Promise<void>;

interface Entry {
  owner: string;
  fn: Listener<never>;
}

/**
 * Typed in-process event bus. Listeners are registered under an owner (a module name) so a module's
 * `stop()` removes all of its listeners with `offOwner`. Every listener is isolated: an exception
 * or rejected promise is logged with owner and event name — never the payload, which may carry
 * patient data — and never reaches the emitter or the other listeners.
 */
export class EventBus<M extends object> {
  readonly #listeners = new Map<keyof M, Entry[]>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  on<K extends keyof M>(owner: string, event: K, fn: Listener<M[K]>): () => void {
    const list = this.#listeners.get(event) ?? [];
    const entry: Entry = { owner, fn: fn as Listener<never> };
    list.push(entry);
    this.#listeners.set(event, list);
    return () => {
      const current = this.#listeners.get(event);
      if (current) this.#listeners.set(event, current.filter((e) => e !== entry));
    };
  }

  offOwner(owner: string): void {
    for (const [event, list] of this.#listeners) {
      this.#listeners.set(event, list.filter((e) => e.owner !== owner));
    }
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const { owner, fn } of [...list]) {
      try {
        const result = (fn as Listener<M[K]>)(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.#report(owner, event, err));
      } catch (err) {
        this.#report(owner, event, err);
      }
    }
  }

  listenerCount(event?: keyof M): number {
    if (event !== undefined) return this.#listeners.get(event)?.length ?? 0;
    let n = 0;
    for (const list of this.#listeners.values()) n += list.length;
    return n;
  }

  #report(owner: string, event: keyof M, err: unknown): void {
    this.#log.error({ owner, event: String(event), err }, `listener of ${String(event)} in ${owner} failed: ${describeError(err)}`);
  }
}
