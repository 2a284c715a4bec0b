import { chunksLoaded } from '../components/Lazy';
import { createStore, type Store } from '../state/store';
import { createFakeServer, type FakeServer } from './fake-api';

/** A store wired to a fake server, started at `url` the way main.tsx starts the real one. */
export function startStore(url: string, server: FakeServer = createFakeServer()): Store {
  window.history.replaceState(null, '', url);
  // happy-dom's navigator says en-US; the suites read the Chinese the board's team sees.
  const store = createStore({
    window,
    storage: window.localStorage,
    apiBase: '',
    fetch: server.fetch,
    languages: ['zh-CN'],
  });
  store.start();
  return store;
}

/** Lets pending promises (fake fetches, model updates, pages' code chunks) settle. */
export const settle = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) {
    await chunksLoaded();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
};
