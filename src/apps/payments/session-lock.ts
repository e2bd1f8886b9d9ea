// Messages of one session are answered one at a time. Inside a process a chain of promises per
// session id orders them; across replicas the session row's version does (store.saveSession), and
// a turn that lost the race is redone on the newer state.
export class SessionLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    this.#tails.set(id, tail);
    tail.then(() => {
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    });
    return next;
  }
}
