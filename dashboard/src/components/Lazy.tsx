import { signal } from '@preact/signals';
import type { ComponentType, FunctionComponent } from 'preact';
import { ErrorNotice, Loading } from './Feedback';

const inFlight = new Set<Promise<void>>();

/** Settles once every chunk asked for so far has arrived (tests wait on it before reading the page). */
export const chunksLoaded = () => Promise.all(inFlight).then(() => undefined);

/**
 * A component whose code is fetched the first time it renders (a Vite dynamic import, so it
 * is a chunk of its own and stays out of the first load). Until the chunk arrives it shows
 * `placeholder`; a failed fetch offers a retry.
 */
export function lazy<P extends object>(
  load: () => Promise<ComponentType<P>>,
  placeholder: 'loading' | 'none' = 'loading',
): FunctionComponent<P> & { preload: () => Promise<void> } {
  const component = signal<ComponentType<P> | null>(null);
  const failed = signal<unknown>(null);
  let started: Promise<void> | null = null;

  function preload() {
    if (started) return started;
    const loading = load().then(
      (loaded) => {
        component.value = loaded;
      },
      (error) => {
        started = null;
        failed.value = error;
      },
    );
    started = loading;
    inFlight.add(loading);
    void loading.finally(() => inFlight.delete(loading));
    return loading;
  }

  function Lazy(props: P) {
    const Loaded = component.value;
    if (Loaded) return <Loaded {...props} />;
    if (failed.value) {
      return (
        <ErrorNotice
          error={failed.value}
          onRetry={() => {
            failed.value = null;
            void preload();
          }}
        />
      );
    }
    void preload();
    return placeholder === 'loading' ? <Loading /> : null;
  }
  return Object.assign(Lazy, { preload });
}
